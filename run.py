"""`python run.py` == `ringback serve`: the service on its embedded defaults."""

import sys

from ringback.cli import main

if __name__ == "__main__":
    sys.exit(main(["serve", *sys.argv[1:]]))
