"""Evaluate a trained ghara model on Label Studio exports.

::

    python evaluate.py --model runs/tiny --data annotation/sample/sample_export.json \\
        --out report.json --errors errors.html

Prints the export's conversion summary, then Markdown tables: entities (seqeval strict IOB2
per label, micro, macro), relations per role (end to end and with gold spans), events (gold
STRIKE matched by trigger; argument-role F1), records (model/records.py over predictions vs
over gold: matched records, date/place/actor/casualty agreement, gold DATE resolution;
``--no-records`` skips it). ``--out`` writes the full report as JSON (the
input of ``python -m model.card``); ``--errors`` writes an RTL HTML page of the paragraphs
where gold and prediction differ. The engine is :mod:`model.evaluation`.
"""

import sys

from model.evaluation import main

if __name__ == "__main__":
    sys.exit(main())
