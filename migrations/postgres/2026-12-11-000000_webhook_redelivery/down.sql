ALTER TABLE webhook_deliveries DROP COLUMN redelivery_of;
