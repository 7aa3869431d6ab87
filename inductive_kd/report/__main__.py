"""`python -m inductive_kd.report --runs R --out R/report`: see inductive_kd.report."""

import sys

from inductive_kd.report.generate import main

sys.exit(main())
