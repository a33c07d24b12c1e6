# What the project may cost a month, with alerts at half, 90 % and all of it (and on the forecast).

variable "billing_account" {
  type        = string
  description = "billing account id (XXXXXX-XXXXXX-XXXXXX) the project is billed to"
}

variable "monthly_budget_pln" {
  type        = number
  description = "the month's budget in PLN (docs/capacity.md)"
}

resource "google_billing_budget" "project" {
  billing_account = var.billing_account
  display_name    = "e-Registration ${var.environment}"

  budget_filter {
    projects = ["projects/${data.google_project.this.number}"]
  }

  amount {
    specified_amount {
      currency_code = "PLN"
      units         = tostring(var.monthly_budget_pln)
    }
  }

  threshold_rules {
    threshold_percent = 0.5
  }
  threshold_rules {
    threshold_percent = 0.9
  }
  threshold_rules {
    threshold_percent = 1.0
  }
  threshold_rules {
    threshold_percent = 1.0
    spend_basis       = "FORECASTED_SPEND"
  }

  all_updates_rule {
    monitoring_notification_channels = local.page_channels
    disable_default_iam_recipients   = false
  }

  depends_on = [google_project_service.api]
}
