DROP TABLE partner_reachability;
