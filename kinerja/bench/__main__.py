import sys

from kinerja.bench.run import main

sys.exit(main())
