import sys

from crawler.bench import main

sys.exit(main())
