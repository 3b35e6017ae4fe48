from fakelens.cli import main

raise SystemExit(main())
