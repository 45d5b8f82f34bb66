"""Real servers on loopback for the tests: dnsmasq, Dovecot, and a recording stand-in for Slack's Web API."""
