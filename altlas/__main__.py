import sys

from altlas.cli import main

sys.exit(main())
