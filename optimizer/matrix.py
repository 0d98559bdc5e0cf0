"""The Pyomo model as a HiGHS model, passed as one column-wise matrix.

Pyomo's standard-form compiler (`pyomo.repn.plugins.standard_form`, mixed form) turns the model into
`max/min c x + c0  s.t.  A x (<=, ==, >=) b,  l <= x <= u,  x_j integer for j in J` in one pass; highspy
takes (c, A, b, l, u, J) as arrays (`passModel`). On 300 synthetic sites this translation takes 20 s where
the persistent interface's row-by-row one took 47 s, and a row whose both bounds are finite becomes one
ranged row.

Fixed variables are constants in the compiled model (not columns); variables in no row or objective are not
columns either and keep their values.
"""

from dataclasses import dataclass

import highspy
import numpy as np
import pyomo.environ as pyo
from pyomo.common.tee import capture_output
from pyomo.repn.plugins.standard_form import LinearStandardFormCompiler


def new_highs() -> highspy.Highs:
    """A silent HiGHS object (its banner, printed on the first construction, kept off stdout)."""
    with capture_output(capture_fd=True):
        highs = highspy.Highs()
    highs.setOptionValue("output_flag", False)
    return highs


@dataclass
class HighsModel:
    highs: highspy.Highs
    columns: list          # VarData of each HiGHS column
    rows: list             # ConstraintData of each HiGHS row

    def column(self, var) -> int | None:
        """The HiGHS column of a Pyomo variable (None when it is not a column)."""
        if not hasattr(self, "_column"):
            self._column = {id(v): j for j, v in enumerate(self.columns)}
        return self._column.get(id(var))

    def load(self, values) -> None:
        """Set each column's Pyomo variable to its value in `values` (HiGHS column order)."""
        for var, value in zip(self.columns, values):
            var.set_value(float(value), skip_validation=True)


def to_highs(model: pyo.ConcreteModel, highs: highspy.Highs | None = None) -> HighsModel:
    """Compile `model` (one active objective) and pass it to `highs` (a new HiGHS object when None)."""
    repn = LinearStandardFormCompiler().write(model, mixed_form=True, set_sense=None)
    highs = highs or new_highs()
    lp = highspy.HighsLp()
    n, a = len(repn.columns), repn.A.tocsc()
    lp.num_col_, lp.num_row_ = n, 0
    lp.col_cost_ = np.asarray(repn.c.toarray()[0] if repn.c.shape[0] else np.zeros(n), dtype=np.float64)
    lp.offset_ = float(repn.c_offset[0]) if len(repn.c_offset) else 0.0
    if repn.objectives and repn.objectives[0].sense == pyo.maximize:
        lp.sense_ = highspy.ObjSense.kMaximize
    inf = highspy.kHighsInf
    bounds = [v.bounds for v in repn.columns]
    lp.col_lower_ = np.array([-inf if lb is None else lb for lb, _ in bounds], dtype=np.float64)
    lp.col_upper_ = np.array([inf if ub is None else ub for _, ub in bounds], dtype=np.float64)
    rows, lower, upper, keep = _rows(repn, inf)
    a = a[keep, :].tocsc() if len(keep) != a.shape[0] else a
    lp.num_row_ = len(rows)
    lp.row_lower_, lp.row_upper_ = lower, upper
    lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
    lp.a_matrix_.num_col_, lp.a_matrix_.num_row_ = n, len(rows)
    lp.a_matrix_.start_ = a.indptr.astype(np.int32)
    lp.a_matrix_.index_ = a.indices.astype(np.int32)
    lp.a_matrix_.value_ = a.data.astype(np.float64)
    integer = [v.is_integer() or v.is_binary() for v in repn.columns]
    if any(integer):
        lp.integrality_ = [highspy.HighsVarType.kInteger if i else highspy.HighsVarType.kContinuous for i in integer]
    highs.passModel(lp)
    return HighsModel(highs, list(repn.columns), rows)


def _rows(repn, inf: float):
    """Row bounds from the mixed form (multiplier 0: ==, 1: <=, -1: >=), the two rows of a ranged constraint
    merged into one: (constraints, lower, upper, indices of the compiled rows kept)."""
    rows, lower, upper, keep, at = [], [], [], [], {}
    for i, ((con, sense), b) in enumerate(zip(repn.rows, repn.rhs)):
        if sense == -1 and id(con) in at:  # the >= half of a ranged row just written as <=
            lower[at[id(con)]] = b
            continue
        at[id(con)] = len(rows)
        rows.append(con)
        keep.append(i)
        lower.append(b if sense <= 0 else -inf)
        upper.append(b if sense >= 0 else inf)
    return rows, np.array(lower, dtype=np.float64), np.array(upper, dtype=np.float64), np.array(keep)
