"""Who may read channel sync health: managers and finance already read the outbox;
integrations (monitoring tools) read it through the API."""

from erp import roles

roles.register_role_permissions(roles.INTEGRATION, {"erp.view_outboxmessage"})
