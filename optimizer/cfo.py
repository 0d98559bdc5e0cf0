"""The figures a CFO reads, computed only from a solved plan's exported tables (CashFlow, the scenario values).

Each CashFlow line is a non-negative amount a_l[j,w] with a sign and a category (operating, capex, financing,
tax; formulation/terms.py), over the horizon and the post-horizon tail. With several scenarios, a figure is
taken on the probability-weighted flows sum_w p_w a_l[j,w] (the DSCR excepted: its worst scenario).

    OP[j]     operating cash: sum of the signed operating lines
    NCX[j]    net capex: capex outflows less ASIC sale proceeds (- sum of the signed capex lines)
    UT[j]     taxes as if unlevered: taxes[j] + the tax the interest saves (objective.py N2)
    UFCF[j] = OP[j] - NCX[j] - UT[j]     unlevered free cash flow, before financing
    FCFE[j] = net_cash_flow_usd[j]       flow to equity holders: every line in the NPV (operating, capex,
              taxes, debt draws less repayments and interest, issuance cost). Convention: the opening cash
              and any equity raised are the holders' own money, so spending them is the holders' money going
              in, already counted in the negative FCFE it pays for; neither is a flow of its own (that would
              count the same dollar twice), and the cash a plan keeps is counted when it is earned.
    IRR       q with sum_j flow[j] (1+q)^-j = 0 (numpy_financial.irr: the root closest to 0 when the flows
              change sign several times; None when there is none), per year (1+q)^4 - 1
    payback   the first year from which cumulative UFCF stays >= 0 to the end of the tail (None if it ends < 0)
    MOIC      sum of the positive UFCF quarters / sum of the negative ones (None without a negative quarter)
    peak funding  -min_j cumulative UFCF (0 if it never dips below 0) and that quarter
    DSCR[t]   trailing window sums (horizon quarters only): (OP - taxes) / (interest + project debt
              repayment), for the quarters whose own debt service is > 0; none without debt service
"""

import numpy as np
import numpy_financial as npf
import pandas as pd

from optimizer.build import cash_lines
from optimizer.formulation import covenants, financing, flexibility, halls, mining, site_opening, taxes
from optimizer.formulation.family import TOL_USD

QUARTERS_PER_YEAR = 4
DSCR_WINDOW_QUARTERS = 4
UFCF = "unlevered_free_cash_flow_usd"
MINING_OPERATING = (mining.REVENUE, mining.POWER, mining.OPEX, flexibility.FLEXIBILITY)
SUBTOTALS = ("ebitda_usd", "net_income_usd", "free_cash_flow_usd")


# ---------------------------------------------------------------- flows

def _signed(cashflow: pd.DataFrame, lines) -> pd.Series:
    """sum_l sign_l * a_l over `lines` (0 for a line the table does not carry)."""
    total = pd.Series(0.0, index=cashflow.index)
    for line in lines:
        if line.name in cashflow:
            total = total + line.sign * cashflow[line.name]
    return total


def _of(lines, category: str) -> list:
    return [line for line in lines if line.category == category]


def unlevered_fcf_usd(plan) -> pd.DataFrame:
    """Per (quarter, scenario), horizon and tail: OP, NCX, taxes, UT and UFCF (CashFlow's
    unlevered_free_cash_flow_usd = OP - NCX - UT, objective.py N2)."""
    c, lines = plan.cashflow, plan.cash_lines
    ufcf, operating, capex = c[UFCF], _signed(c, _of(lines, "operating")), _signed(c, _of(lines, "capex"))
    return pd.DataFrame({
        "quarter": c["quarter"], "scenario": c["scenario"], "period": c["period"],
        "operating_cash_usd": operating, "net_capex_usd": -capex, "taxes_usd": -_signed(c, _of(lines, "tax")),
        "unlevered_taxes_usd": operating + capex - ufcf, UFCF: ufcf,
    }).reset_index(drop=True)


def _expected(plan, frame: pd.DataFrame, columns: list) -> pd.DataFrame:
    """sum_w p_w * column per quarter, in the plan's quarter order (period kept)."""
    p = frame["scenario"].map(plan.data.probability)
    weighted = frame[columns].mul(p, axis=0).assign(quarter=frame["quarter"].to_numpy())
    out = weighted.groupby("quarter", sort=False)[columns].sum()
    order = [q for q in plan.data.extended_quarters if q in out.index]
    period = frame.drop_duplicates("quarter").set_index("quarter")["period"]
    return out.loc[order].assign(period=period.loc[order]).reset_index()


def expected_flows_usd(plan) -> pd.DataFrame:
    """Per quarter (horizon and tail), probability-weighted: UFCF, its cumulative sum, and FCFE."""
    u = plan.cashflow[["quarter", "scenario", "period", UFCF]].reset_index(drop=True)
    u["equity_cash_flow_usd"] = plan.cashflow["net_cash_flow_usd"].to_numpy()
    flows = _expected(plan, u, [UFCF, "equity_cash_flow_usd"])
    flows["cumulative_unlevered_usd"] = flows[UFCF].cumsum()
    return flows[["quarter", "period", UFCF, "cumulative_unlevered_usd", "equity_cash_flow_usd"]]


# ---------------------------------------------------------------- figures of one flow series

def irr_per_yr(flows) -> float | None:
    """(1+q)^4 - 1 for q = numpy_financial.irr of the quarterly flows; None when no rate zeroes their NPV."""
    q = npf.irr(np.asarray(flows, dtype=float))
    return None if not np.isfinite(q) else float((1 + q) ** QUARTERS_PER_YEAR - 1)


def payback(quarters, flows) -> tuple[int | None, str | None]:
    """(year, quarter) of the first quarter from which the cumulative flow stays >= 0 to the end."""
    cumulative = np.cumsum(np.asarray(flows, dtype=float))
    below = np.flatnonzero(cumulative < -TOL_USD)
    k = 0 if not len(below) else below[-1] + 1
    if k >= len(cumulative):
        return None, None
    return int(quarters[k][:4]), quarters[k]


def peak_funding(quarters, flows) -> tuple[float, str | None]:
    """(-min cumulative flow, its quarter); (0, None) when the cumulative flow never dips below 0."""
    cumulative = np.cumsum(np.asarray(flows, dtype=float))
    k = int(np.argmin(cumulative))
    return (float(-cumulative[k]), quarters[k]) if cumulative[k] < -TOL_USD else (0.0, None)


def moic(flows) -> float | None:
    """Sum of the positive flows over the sum of the negative ones (None without a negative flow)."""
    f = np.asarray(flows, dtype=float)
    invested = float(-f[f < 0].sum())
    return float(f[f > 0].sum()) / invested if invested > TOL_USD else None


def dscr_by_quarter(cashflow: pd.DataFrame, window_quarters: int = DSCR_WINDOW_QUARTERS, lines=None) -> pd.DataFrame:
    """Per (quarter, scenario) of the horizon with debt service > 0: trailing `window_quarters` sums of the
    cash flow available for debt service (operating lines - taxes) and of the debt service (interest +
    project debt repayment), and their ratio `dscr` (a shorter window in the first quarters). Empty when
    no quarter services debt."""
    lines = lines or cash_lines()
    c = cashflow[cashflow["period"] == "horizon"].reset_index(drop=True)
    cfads, service = covenants.dscr_parts(c, _of(lines, "operating"))
    frame = pd.DataFrame({"quarter": c["quarter"], "scenario": c["scenario"], "debt_service_quarter_usd": service,
                          "cfads_usd": cfads, "debt_service_usd": service})
    trailing = lambda s: s.rolling(window_quarters, min_periods=1).sum()  # noqa: E731
    by = frame.groupby("scenario", sort=False)
    frame["cfads_usd"] = by["cfads_usd"].transform(trailing)
    frame["debt_service_usd"] = by["debt_service_usd"].transform(trailing)
    frame = frame[frame["debt_service_quarter_usd"] > TOL_USD].drop(columns="debt_service_quarter_usd")
    return frame.assign(dscr=frame["cfads_usd"] / frame["debt_service_usd"]).reset_index(drop=True)


# ---------------------------------------------------------------- what a CFO reads

def figures(plan) -> dict:
    """Project and equity IRR, payback, MOIC, peak funding and minimum DSCR (module docstring)."""
    flows = expected_flows_usd(plan)
    quarters = list(flows["quarter"])
    year, quarter = payback(quarters, flows[UFCF])
    need, need_quarter = peak_funding(quarters, flows[UFCF])
    dscr = dscr_by_quarter(plan.cashflow, plan.data.base.covenant_dscr_window_quarters, plan.cash_lines)
    worst = dscr.loc[dscr["dscr"].idxmin()] if len(dscr) else None
    return {
        "irr_project_per_yr": irr_per_yr(flows[UFCF]),
        "irr_equity_per_yr": irr_per_yr(flows["equity_cash_flow_usd"]),
        "payback_year": year, "payback_quarter": quarter,
        "moic_project": moic(flows[UFCF]),
        "peak_funding_usd": need, "peak_funding_quarter": need_quarter,
        "min_dscr": None if worst is None else float(worst["dscr"]),
        "min_dscr_quarter": None if worst is None else str(worst["quarter"]),
        "min_dscr_scenario": None if worst is None else str(worst["scenario"]),
        "dscr_window_quarters": plan.data.base.covenant_dscr_window_quarters,
    }


def _horizon_totals(plan) -> tuple[pd.Series, dict]:
    """Expected horizon total of every line, and of the opening and closing cash."""
    c = plan.cashflow[plan.cashflow["period"] == "horizon"]
    p = c["scenario"].map(plan.data.probability)
    names = [line.name for line in plan.cash_lines]
    totals = c[names].mul(p, axis=0).sum()
    last = c[c["quarter"] == plan.data.quarters[-1]]
    opening = sum(plan.data.probability[w] * sc.opening_cash_usd for w, sc in plan.data.scenario_values.items())
    closing = float((last["cash_balance_usd"] * last["scenario"].map(plan.data.probability)).sum())
    return totals, {"opening": opening, "closing": closing}


SOURCES = (("Project debt drawn", (financing.DRAW,)), ("Revolver drawn", (financing.REVOLVER_DRAW,)),
           ("Equity raised", (financing.EQUITY,)), ("ASIC sale proceeds", (mining.SALVAGE,)))
USES = (("AI capex", (halls.CAPEX,)), ("Site opening", (site_opening.OPENING,)), ("ASIC capex", (mining.ASIC_CAPEX,)),
        ("Mining infrastructure", (mining.INFRASTRUCTURE,)), ("Interest", (financing.INTEREST,)),
        ("Debt repayments", (financing.REPAY, financing.REVOLVER_REPAY)), ("Taxes", (taxes.TAXES,)),
        ("Issuance costs", (financing.ISSUANCE,)))


def sources_and_uses(plan) -> pd.DataFrame:
    """Horizon sources and uses (expected over scenarios): rows (side, item, amount_usd). The two operating
    rows are net (a negative one is a net use); a line no row names falls in "Other sources" / "Other
    uses" by its sign. Sources = uses because the closing cash is the plan's own cash_balance_usd."""
    totals, cash = _horizon_totals(plan)
    operating = _of(plan.cash_lines, "operating")
    other_operating = [line for line in operating if line not in MINING_OPERATING]
    named = {line for _, group in SOURCES + USES for line in group} | set(operating)
    amount = lambda group: float(sum(totals.get(line.name, 0.0) for line in group))  # noqa: E731
    signed = lambda group: float(sum(line.sign * totals.get(line.name, 0.0) for line in group))  # noqa: E731
    rest = [line for line in plan.cash_lines if line not in named]
    rows = [("sources", "Opening cash", cash["opening"]),
            ("sources", "Mining operating cash", signed([x for x in operating if x in MINING_OPERATING])),
            ("sources", "Lease and other operating cash", signed(other_operating)),
            *[("sources", item, amount(group)) for item, group in SOURCES],
            *([("sources", "Other sources", amount([x for x in rest if x.sign > 0]))] if any(
                x.sign > 0 for x in rest) else []),
            *[("uses", item, amount(group)) for item, group in USES],
            *([("uses", "Other uses", amount([x for x in rest if x.sign < 0]))] if any(
                x.sign < 0 for x in rest) else []),
            ("uses", "Closing cash", cash["closing"])]
    return pd.DataFrame(rows, columns=["side", "item", "amount_usd"])


def pnl_by_year(plan) -> pd.DataFrame:
    """Horizon years across, lines down (expected over scenarios; costs negative, so every subtotal is the
    plain sum of the rows between it and the subtotal above): revenue lines, operating cost lines,
    ebitda_usd; ASIC sale proceeds (a gain: taxes.py takes their basis as depreciated), tax depreciation,
    interest, taxes, net_income_usd; depreciation added back, capex lines, free_cash_flow_usd (before debt
    principal and issuance costs). Depreciation is CashFlow's depreciation_usd (0 when taxes are off)."""
    c = plan.cashflow[plan.cashflow["period"] == "horizon"]
    operating, capex = _of(plan.cash_lines, "operating"), _of(plan.cash_lines, "capex")
    signed = lambda line: line.sign * c[line.name]  # noqa: E731
    rows: dict[str, pd.Series] = {}

    def block(lines, extra: dict, subtotal: str, start) -> None:
        """The rows of `lines` and `extra`, then `subtotal` = start + their sum."""
        parts = {**{line.name: signed(line) for line in lines}, **extra}
        rows.update(parts)
        rows[subtotal] = sum(parts.values(), start)

    zero = pd.Series(0.0, index=c.index)
    block(sorted(operating, key=lambda line: -line.sign), {}, "ebitda_usd", zero)
    block([x for x in capex if x.sign > 0], {"depreciation_usd": -c["depreciation_usd"],
          financing.INTEREST.name: signed(financing.INTEREST), taxes.TAXES.name: signed(taxes.TAXES)},
          "net_income_usd", rows["ebitda_usd"])
    rows["depreciation_addback_usd"] = c["depreciation_usd"]
    block([x for x in capex if x.sign < 0], {}, "free_cash_flow_usd", rows["net_income_usd"] + c["depreciation_usd"])
    p = c["scenario"].map(plan.data.probability)
    table = pd.DataFrame({name: values.mul(p) for name, values in rows.items()})
    table = table.groupby(c["quarter"].str[:4].astype(int).rename("year")).sum().T
    table.index.name = "line"
    return table
