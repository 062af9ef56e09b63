from novaseries import cli

raise SystemExit(cli.main())
