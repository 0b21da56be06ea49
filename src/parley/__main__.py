from parley.cli.main import main

raise SystemExit(main())
