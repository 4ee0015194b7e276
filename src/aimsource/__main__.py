from aimsource.cli import main

raise SystemExit(main())
