import sys

from racegate.cli import main

sys.exit(main())
