DROP TABLE audit_events;
DROP TABLE login_throttles;
DROP TABLE sessions;
DROP TABLE memberships;
DROP TABLE users;
