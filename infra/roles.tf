# Functions that write to Spanner get databaseUser's data permissions without its DDL
# (spanner.databases.updateDdl): a compromised function cannot drop a table or a column.
resource "google_project_iam_custom_role" "spanner_data_writer" {
  role_id     = "ereg.spannerDataWriter"
  title       = "e-Registration Spanner data writer"
  description = "read and write rows of the ereg database; no schema change"
  permissions = [
    "spanner.databases.beginOrRollbackReadWriteTransaction",
    "spanner.databases.beginPartitionedDmlTransaction",
    "spanner.databases.beginReadOnlyTransaction",
    "spanner.databases.partitionQuery",
    "spanner.databases.partitionRead",
    "spanner.databases.read",
    "spanner.databases.select",
    "spanner.databases.write",
    "spanner.sessions.create",
    "spanner.sessions.delete",
    "spanner.sessions.get",
    "spanner.sessions.list",
  ]
}

locals {
  # access_roles (iam.tf) names a custom role by its id; the binding needs its full name.
  custom_roles = { (google_project_iam_custom_role.spanner_data_writer.role_id) = google_project_iam_custom_role.spanner_data_writer.name }
}
