ALTER TABLE tenants DROP COLUMN alert_emails;
