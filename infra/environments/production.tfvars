# terraform -chdir=infra plan -var-file=environments/production.tfvars -var project_id=... -var source_object=...
# Sizing: docs/capacity.md.
environment              = "production"
domain                   = "e-rejestracja.example"
spanner_processing_units = 3000
redis_memory_gb          = 5
instance_scale           = 1
alert_email              = "ereg-oncall@example.invalid"
login_node_issuer        = "https://securetoken.google.com/ereg-production"
login_node_jwks_url      = "https://www.googleapis.com/service_accounts/v1/jwk/securetoken@system.gserviceaccount.com"
assertion_audience       = "ereg-production"
sms_provider_url         = "https://api.sms-provider.example"
fhir_base_url            = "https://ehealth-platform.example/fhir"
