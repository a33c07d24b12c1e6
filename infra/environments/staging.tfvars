# terraform -chdir=infra plan -var-file=environments/staging.tfvars -var project_id=... -var source_object=...
environment              = "staging"
domain                   = "staging.e-rejestracja.example"
spanner_processing_units = 100
redis_memory_gb          = 1
instance_scale           = 0.1
billing_account          = "000000-000000-000000" # the real account id (gcloud billing accounts list)
monthly_budget_pln       = 2000                   # [assumption]
alert_email              = "ereg-staging-alerts@example.invalid"
# The national login node's SAML metadata (Identity Platform's inbound SAML provider, identity.tf).
login_node_entity_id    = "https://login-node.example/idp" # from the node's metadata
login_node_sso_url      = "https://login-node-test.example/sso"
login_node_certificates = [] # PEM certificates from the node's metadata: set before the first apply (docs/deploy.md)
login_url               = "https://login.staging.e-rejestracja.example/authorize"
github_owner            = "e-rejestracja" # [assumption] the repository Cloud Build is connected to
github_repo             = "e-registration"
release_readers         = ["serviceAccount:ereg-deployer@ereg-production.iam.gserviceaccount.com"]
sms_provider_url        = "https://sms-sandbox.provider.example"
fhir_base_url           = "https://ehealth-platform-test.example/fhir"
settings = {
  EREG_LOG_LEVEL = "DEBUG"
  # The smoke user signs in with a custom token (tools/identity_token.py); production never accepts one.
  EREG_IDENTITY_PROVIDERS = "saml.national-login,custom"
}
