# terraform -chdir=infra plan -var-file=environments/production.tfvars -var project_id=... -var source_object=...
# Sizing: docs/capacity.md.
environment              = "production"
domain                   = "e-rejestracja.example"
spanner_processing_units = 3000
redis_memory_gb          = 5
instance_scale           = 1
billing_account          = "000000-000000-000000" # the real account id (gcloud billing accounts list)
monthly_budget_pln       = 60000                  # [assumption] set from the month's forecast (docs/capacity.md)
alert_email              = "ereg-oncall@example.invalid"
# The national login node's SAML metadata (Identity Platform's inbound SAML provider, identity.tf).
login_node_entity_id    = "https://login-node.example/idp" # from the node's metadata
login_node_sso_url      = "https://login-node.example/sso"
login_node_certificates = [] # PEM certificates from the node's metadata: set before the first apply (docs/deploy.md)
login_url               = "https://login.e-rejestracja.example/authorize"
github_owner            = "e-rejestracja" # [assumption] the repository Cloud Build is connected to
github_repo             = "e-registration"
release_bucket          = "ereg-staging-ereg-releases" # [assumption] staging's project id is ereg-staging
sms_provider_url        = "https://api.sms-provider.example"
fhir_base_url           = "https://ehealth-platform.example/fhir"
