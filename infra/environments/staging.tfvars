# terraform -chdir=infra plan -var-file=environments/staging.tfvars -var project_id=... -var source_object=...
environment              = "staging"
domain                   = "staging.e-rejestracja.example"
spanner_processing_units = 100
redis_memory_gb          = 1
instance_scale           = 0.1
alert_email              = "ereg-staging-alerts@example.invalid"
login_node_issuer        = "https://securetoken.google.com/ereg-staging"
login_node_jwks_url      = "https://www.googleapis.com/service_accounts/v1/jwk/securetoken@system.gserviceaccount.com"
assertion_audience       = "ereg-staging"
sms_provider_url         = "https://sms-sandbox.provider.example"
fhir_base_url            = "https://ehealth-platform-test.example/fhir"
settings = {
  EREG_LOG_LEVEL = "DEBUG"
}
