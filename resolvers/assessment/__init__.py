"""Smart assessment (智能考核): every assessed branch's score per item for a period.

Scores are computed, never stored, from the catalog (models/assessment.py) and the records:

- `ledger_frequency`: the ledger item's due entries present in the period (resolvers/
  ledger_completeness.py), present / due × points. Late entries count as present; a month
  still within its grace days (pending) is not due yet.
- `count_target`: a metric's count against the target, capped at the points. A target is per
  year (`period_scale`) and scaled to the period (a month gets a twelfth); `per: "member"`
  divides the count by the branch's members first.
- `rate`: a metric's done / total × points.
- `manual`: the inspector's current score for the branch, item and period; none yet → 0,
  "待督导评分".

**Not applicable means full points.** When nothing was due (no ledger entry due this month, no
directive due, no probationary member) or the metric has no provider yet (reminders and spot
checks until the supervision module registers them), the item scores its full points, marked
not applicable. A branch is not marked down for work nobody asked of it; and since every branch
gets the same points, rankings are unchanged, while totals stay out of 100 and comparable across
periods (dropping the item would change the scale from one period to the next).

Adjustments (加减分) apply on top, capped to [0, points] per item; adjustments on no item apply
to the total, capped to [0, the active items' points]. Every item score carries its explanation.

The package, one module per concern, everything re-exported here:

- `catalog`: the items, their points and rules; admins edit them.
- `metric`: the registry of metrics `count_target` and `rate` items read.
- `scoring`: pure scoring (no I/O): an item's score from its figures, ranks.
- `query`: reading and scoring branches for one period or several, the ranking, the trend.
- `history`: every manual score and adjustment of a branch and period.
- `write`: inspectors' manual scores and adjustments.

Access (access/assessment.py): admins and inspectors read every branch, a secretary the
branches of their subtree (and the assessed branch their own sits in), an officer the assessed
branch they belong to. Inspectors and admins enter manual scores and adjustments; admins edit
the catalog.
"""

from resolvers.assessment.catalog import (
    TOTAL_POINTS,
    check_params,
    get_assessment_item,
    list_assessment_items,
    update_assessment_items,
)
from resolvers.assessment.history import (
    AdjustmentEntry,
    History,
    ManualEntry,
    assessment_history,
    get_manual_score,
    get_score_adjustment,
    newest_first,
)
from resolvers.assessment.query import (
    ASSESSED_KINDS,
    Ranking,
    assessed_branches,
    assessment_ranking,
    assessment_rankings,
    assessment_trend,
    branch_assessment,
    score_branches,
    score_periods,
)
from resolvers.assessment.scoring import (
    PERIOD_SCALES,
    BranchScore,
    ItemScore,
    RankedScore,
    fmt,
    rank,
    round1,
    score_item,
)
from resolvers.assessment.write import MAX_DELTA, REASON_MAX, adjust_score, set_manual_score

__all__ = [
    "ASSESSED_KINDS",
    "MAX_DELTA",
    "PERIOD_SCALES",
    "REASON_MAX",
    "TOTAL_POINTS",
    "AdjustmentEntry",
    "BranchScore",
    "History",
    "ItemScore",
    "ManualEntry",
    "RankedScore",
    "Ranking",
    "adjust_score",
    "assessed_branches",
    "assessment_history",
    "assessment_ranking",
    "assessment_rankings",
    "assessment_trend",
    "branch_assessment",
    "check_params",
    "fmt",
    "get_assessment_item",
    "get_manual_score",
    "get_score_adjustment",
    "list_assessment_items",
    "newest_first",
    "rank",
    "round1",
    "score_branches",
    "score_item",
    "score_periods",
    "set_manual_score",
    "update_assessment_items",
]
