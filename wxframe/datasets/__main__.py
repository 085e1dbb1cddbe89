from wxframe.datasets import main

raise SystemExit(main())
