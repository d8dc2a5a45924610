"""Static address checks (HA201 to HA215): uniqueness, subnets, IP address takeover rules and ping targets."""
