"""nova-series: materialize, patch and test old Nova releases."""
