"""What `halang export pacemaker` cannot carry over to Pacemaker and Corosync (HA8xx)."""
