"""Static address checks (HA201 to HA214): uniqueness, subnets and IP address takeover rules."""
