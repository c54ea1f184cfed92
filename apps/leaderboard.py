"""Leaderboard tab: ratings with 95% bootstrap CIs, pairwise heatmaps, downloads, and the admin view.

Recomputed when the tab opens, on Refresh and on a slow timer (the service caches for a short TTL); never per vote."""
from __future__ import annotations

import gradio as gr
import pandas as pd
import plotly.graph_objects as go

from apps.common import download_file, file_input, file_path, throttle, user_errors
from apps.plots import themed
from backend.arena import service, trust_service
from backend.arena.vocab import CATEGORY_CHOICES, leaderboard_row, plural

METHOD_CHOICES = [("Bradley-Terry (MLE)", "bt"), ("Online Elo (K=4)", "elo")]
TABLE_COLUMNS = ["Rank (UB)", "Model", "Rating", "95% CI", "Votes", "Win rate", "Status"]


def _table(rep: dict) -> pd.DataFrame:
    """Rows from vocab.leaderboard_row. Below the minimum vote count the rank is provisional and no CI is shown
    (a bootstrap over a handful of votes says "+0/-0", which reads as certainty)."""
    rows = []
    for name, r in rep["models"].items():
        row = leaderboard_row(name, r, rep["min_votes"])
        ci = "–" if row["provisional"] else row["ci"]
        rank = f"{row['rank_ub']} (provisional)" if row["provisional"] else str(row["rank_ub"])
        status = (f"provisional: {plural(row['votes'], 'vote')} of {rep['min_votes']} needed" if row["provisional"]
                  else "")
        rows.append([rank, name, round(row["rating"]), ci, row["votes"],
                     f"{row['win_rate']:.0%}" if row["win_rate"] is not None else "–", status])
    return pd.DataFrame(rows, columns=TABLE_COLUMNS)


def _title(text: str, detail: str = "") -> dict:
    """A short title with its details as a subtitle: Plotly never wraps a title, and one long line ran off the
    plot at phone width ("Rating with 95% bootstrap CI (BT, 100 rou")."""
    return {"text": text, "subtitle": {"text": detail}} if detail else {"text": text}


def _empty_figure(title: dict, text: str) -> go.Figure:
    """A figure that says why it is empty instead of showing bare axes."""
    fig = go.Figure()
    fig.add_annotation(text=text, x=0.5, y=0.5, xref="paper", yref="paper", showarrow=False, font={"size": 16})
    fig.update_xaxes(visible=False)
    fig.update_yaxes(visible=False)
    fig.update_layout(title=title, height=380, margin={"t": 70, "b": 40})
    return themed(fig)


def _ci_plot(rep: dict) -> go.Figure:
    title = _title("Rating with 95% bootstrap CI", f"{rep['method'].upper()}, {rep['bootstrap']} rounds")
    if not rep["models"]:
        return _empty_figure(title, "No votes yet in this category")
    names = [m for m, r in rep["models"].items() if r["battles"] >= rep["min_votes"]]
    prov = [m for m, r in rep["models"].items() if r["battles"] < rep["min_votes"]]
    fig = _ci_trace(rep, names) if names else go.Figure()
    if prov:  # provisional models: a hollow marker, no error bar
        fig.add_trace(go.Scatter(x=prov, y=[rep["models"][m]["rating"] for m in prov], mode="markers",
                                 name=f"provisional (< {rep['min_votes']} votes, no CI)",
                                 marker={"size": 10, "color": "#8a8a8a", "symbol": "circle-open"}))
    fig.update_layout(title=title, yaxis_title="rating", xaxis_title="model", height=380, margin={"t": 70, "b": 40})
    return themed(fig)


def _ci_trace(rep: dict, names: list[str]) -> go.Figure:
    r = [rep["models"][m]["rating"] for m in names]
    fig = go.Figure(go.Scatter(
        x=names, y=r, mode="markers", marker={"size": 10, "color": "#3b82f6"},
        error_y={"type": "data", "symmetric": False,
                 "array": [rep["models"][m]["ci_high"] - v for m, v in zip(names, r, strict=True)],
                 "arrayminus": [v - rep["models"][m]["ci_low"] for m, v in zip(names, r, strict=True)]}))
    return fig


def _heatmap(table, title: dict, fmt: str, colorscale: str, zmid: float | None = None) -> go.Figure:
    if table is None or not len(table):
        return _empty_figure(title, "No votes yet in this category")
    z = table.to_numpy(dtype=float)
    text = [[("" if pd.isna(v) else format(v, fmt)) for v in row] for row in z]
    fig = go.Figure(go.Heatmap(z=z, x=list(table.columns), y=list(table.index), text=text, texttemplate="%{text}",
                               colorscale=colorscale, hoverongaps=False, zmid=zmid))
    fig.update_yaxes(autorange="reversed", title="model (row)")
    fig.update_xaxes(title="opponent (column)")
    fig.update_layout(title=title, height=380, margin={"t": 70, "b": 40})
    return themed(fig, grid=False)


@user_errors
def leaderboard(method: str = "bt", category: str = "overall") -> dict:
    """Ratings per model: {"method", "category", "updated", "models": {name: {rating, ci_low, ci_high, rank_ub,
    battles, wins, losses, ties}}}."""
    rep = service.leaderboard_report(method, category)
    return {k: rep[k] for k in ("method", "category", "updated", "bootstrap", "n_battles", "models")}


@user_errors
def refresh(method: str, category: str):
    view = service.leaderboard_view(method, category)
    rep = view.report
    shown = dict(CATEGORY_CHOICES).get(category, category)
    label = {v: k for k, v in CATEGORY_CHOICES}.get(rep["category"], rep["category"])
    head = (f"**{label}** · {plural(rep['n_battles'], 'counted vote')} of {rep['total_votes']} · last updated "
            f"{rep['updated']} · ranks marked *provisional* rest on fewer than {rep['min_votes']} votes and show "
            "no CI yet.")
    if not rep["models"]:
        head = (f"**{label or shown}**: no votes yet ({plural(rep['total_votes'], 'vote')} recorded, none counted). "
                "Play a few rounds in the Point Battle tab.")
    csv_path = download_file(view.csv, f"arena-leaderboard-{rep['method']}-{rep['category']}.csv")
    return (head, _table(rep), _ci_plot(rep),
            _heatmap(rep["win_fraction"], _title("Win fraction of row over column", "ties excluded"), ".2f", "RdBu",
                     0.5),
            _heatmap(rep["pair_counts"], _title("Battle count"), ".0f", "Blues"), csv_path)


@user_errors
def battles_export(request: gr.Request = None):
    """Every voted battle as FastChat clean_battle JSON (+ point fields); one export per minute serves everyone."""
    throttle(request, "battle export", 6)
    path, age = service.battles_export_file()
    return str(path), f"All voted battles as of {age:.0f} s ago (exports are refreshed at most once a minute)."


@user_errors
def arena_admin(token: str) -> tuple[str, pd.DataFrame]:
    rep = service.admin_report(token)
    c = rep["counts"]
    md = (f"**Battles:** {c['battles']} · **votes:** {c['votes']} · last vote {c['last_vote'] or '–'} · "
          f"votes under the minimum viewing time: {rep['not_counted']} · battles with a failed model: "
          f"{rep['invalid']}  \nOutlier judges (Chatbot Arena §5.1, Fisher-combined p-values against other judges' "
          "votes on the same pairs; flagged = p < 0.05; review, nothing is dropped automatically):")
    cols = ["judge", "votes", "tested", "statistic", "p_value", "flagged"]
    return md, pd.DataFrame(rep["outliers"], columns=cols)


SIGNAL_COLUMNS = ["judge", "votes", "median_dwell_s", "network_sessions", "pattern", "pattern_share", "reasons",
                  "flagged"]
GOLD_COLUMNS = ["judge", "gold_votes", "agree", "accuracy", "weight", "p_value", "flagged"]


@user_errors
def arena_trust(token: str):
    """Scripted-voting signals, gold-item reliability and both rankings (admin)."""
    rep = trust_service.trust_report(token)
    g = rep["gold"]
    flagged = sum(r["flagged"] for r in rep["signals"])
    md = (f"**Scripted-voting signals:** {flagged} of {len(rep['signals'])} judges flagged (network bursts, votes "
          f"faster than reading, one-sided marker patterns). **Gold items:** crowd accuracy "
          f"{'–' if g['crowd_accuracy'] is None else format(g['crowd_accuracy'], '.0%')} on "
          f"{sum(r['gold_votes'] for r in g['judges'])} gold votes; {sum(r['flagged'] for r in g['judges'])} judges "
          f"far below the crowd. **Excluded votes:** {rep['excluded_votes']} (stored, left out of the ratings).")
    sig = pd.DataFrame([{k: r[k] for k in SIGNAL_COLUMNS} for r in rep["signals"]], columns=SIGNAL_COLUMNS)
    gold = pd.DataFrame([{k: r[k] for k in GOLD_COLUMNS} for r in g["judges"]], columns=GOLD_COLUMNS)
    return md, sig, gold, rep["rankings"]


def _exclusion(exclude: bool):
    @user_errors
    def handler(token: str, judges: str, reason: str = ""):
        r = trust_service.set_exclusion(token, str(judges or "").replace("\n", ",").split(","), exclude, reason)
        verb = "excluded from" if exclude else "restored to"
        return f"{r['votes']} vote(s) of {r['judges']} judge(s) {verb} the ratings (votes stay stored)."

    handler.__name__ = "arena_exclude" if exclude else "arena_restore"
    return handler


arena_exclude, arena_restore = _exclusion(True), _exclusion(False)


@user_errors
def arena_import(token: str, file, fmt: str) -> str:
    r = service.import_battles_file(token, file_path(file), fmt)
    return f"Read {r['read']} battles: added {r['added']}, skipped {r['skipped']} already stored."


def build() -> None:
    with gr.Tab("Leaderboard", id="leaderboard", elem_id="tab-leaderboard") as tab:
        gr.Markdown("### Point-Battle leaderboard\nRatings from blind votes only. Ties and *both bad* count as half "
                    "a win for each side. CIs are 95% bootstrap percentiles; **Rank (UB)** = 1 + the number of models "
                    "whose lower bound is above this model's upper bound. Method: `docs/arena.md`.")
        with gr.Row():
            method = gr.Radio(METHOD_CHOICES, value="bt", label="Rating method", elem_id="lb-method")
            category = gr.Dropdown(CATEGORY_CHOICES, value="overall", label="Category", elem_id="lb-category")
            btn = gr.Button("Refresh", elem_id="lb-refresh", scale=0)
        head = gr.Markdown(elem_id="lb-head")
        # columns as wide as their contents, scrolled inside the table: wrapped, a phone broke every header
        # mid-word ("Mod el", "Rat ing", "Vot es")
        table = gr.Dataframe(interactive=False, elem_id="lb-table", wrap=False)
        ci_plot = gr.Plot(label="Confidence intervals", elem_id="lb-ci")
        with gr.Row():
            # min_width: on a phone the two heatmaps stack instead of sharing 356 px (their text was cut)
            wins = gr.Plot(label="Pairwise win fraction", elem_id="lb-wins", min_width=320)
            counts = gr.Plot(label="Battle counts", elem_id="lb-counts", min_width=320)
        with gr.Row():
            csv_btn = gr.DownloadButton("Leaderboard CSV (PointArena columns)", elem_id="lb-csv")
            json_btn = gr.Button("Export all battles (clean_battle JSON)", elem_id="lb-json")
        json_file = gr.File(label="All battles (clean_battle JSON)", interactive=False, visible=True,
                            elem_id="lb-json-file", height=80)
        json_md = gr.Markdown(elem_id="lb-json-md")
        with gr.Accordion("Admin (needs ADMIN_TOKEN)", open=False):
            token = gr.Textbox(label="Admin token", type="password", elem_id="lb-admin-token")
            admin_btn = gr.Button("Open admin view", elem_id="lb-admin-go")
            admin_md = gr.Markdown(elem_id="lb-admin-md")
            admin_tbl = gr.Dataframe(interactive=False, elem_id="lb-admin-table")
            with gr.Row():
                imp_file = file_input([".json"], label="Battles file to import")
                imp_fmt = gr.Radio([("FastChat clean_battle", "clean_battle"),
                                    ("PointArena dynamic_results", "pointarena")],
                                   value="clean_battle", label="Format")
            imp_btn = gr.Button("Import battles")
            imp_md = gr.Markdown()
            gr.Markdown("**Vote trust.** Signals of scripted voting and each judge's agreement with gold items "
                        "(bench images with a mask: the side whose point lies in the mask is right). Excluding a "
                        "judge leaves its votes stored but out of the ratings; restoring counts them again.")
            trust_btn = gr.Button("Check votes", elem_id="lb-trust-go")
            trust_md = gr.Markdown(elem_id="lb-trust-md")
            trust_sig = gr.Dataframe(interactive=False, label="Scripted-voting signals per judge",
                                     elem_id="lb-trust-signals", wrap=True)
            trust_gold = gr.Dataframe(interactive=False, label="Gold-item agreement per judge",
                                      elem_id="lb-trust-gold")
            trust_rank = gr.Dataframe(interactive=False, label="Bradley-Terry ratings: plain and reliability-weighted",
                                      elem_id="lb-trust-rank")
            with gr.Row():
                judges_in = gr.Textbox(label="Judge ids (comma-separated; empty = every flagged judge)",
                                       elem_id="lb-trust-judges")
                reason_in = gr.Textbox(label="Reason", elem_id="lb-trust-reason", max_length=200)
            with gr.Row():
                excl_btn = gr.Button("Exclude their votes", elem_id="lb-trust-exclude")
                rest_btn = gr.Button("Restore their votes", elem_id="lb-trust-restore")
            excl_md = gr.Markdown(elem_id="lb-trust-excl-md")
        outs = [head, table, ci_plot, wins, counts, csv_btn]
        btn.click(refresh, inputs=[method, category], outputs=outs, api_name="leaderboard_view")
        for comp in (method, category):
            comp.change(refresh, inputs=[method, category], outputs=outs, api_visibility="private")
        tab.select(refresh, inputs=[method, category], outputs=outs, api_visibility="private")
        timer = gr.Timer(120, active=False)
        tab.select(lambda: gr.Timer(active=True), outputs=timer, api_visibility="private")
        timer.tick(refresh, inputs=[method, category], outputs=outs, api_visibility="private",
                   show_progress="hidden")
        # its own pool of one: a second export waits for the first and reuses its file
        json_btn.click(battles_export, outputs=[json_file, json_md], api_name="arena_battles_export",
                       concurrency_id="battles_export", concurrency_limit=1)
        # a wrong token's "Error" goes on the message line, not on every table as well
        admin_btn.click(arena_admin, inputs=[token], outputs=[admin_md, admin_tbl], api_name="arena_admin",
                        show_progress_on=[admin_md])
        imp_btn.click(arena_import, inputs=[token, imp_file, imp_fmt], outputs=[imp_md], api_name="arena_import")
        trust_btn.click(arena_trust, inputs=[token], outputs=[trust_md, trust_sig, trust_gold, trust_rank],
                        api_name="arena_trust", show_progress_on=[trust_md])
        excl_btn.click(arena_exclude, inputs=[token, judges_in, reason_in], outputs=excl_md, api_name="arena_exclude")
        rest_btn.click(arena_restore, inputs=[token, judges_in], outputs=excl_md, api_name="arena_restore")
        gr.api(leaderboard, api_name="leaderboard")
