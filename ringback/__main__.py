import sys

from ringback.cli import main

sys.exit(main())
