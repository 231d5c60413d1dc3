"""Write the measured tables of the instructor kit: ``python docs/workshop/build_tables.py``.

Source: ``notebook_timings.tsv`` and ``notebook_timings.summary.txt`` in this folder, both written
by ``python benchmarks/notebook_timings.py``. This script turns them into the blocks between
``<!-- BEGIN generated:NAME -->`` and ``<!-- END generated:NAME -->`` of ``README.md`` (English)
and ``README.zh.md`` (Chinese): the measured table, the one-day and the two-day schedule, and
the server sizing. ``tests/test_workshop.py`` fails when a README is out of date.

The assumptions are constants below and are printed in the kit next to the numbers:
a notebook's time = execution + reading its markdown at ``READING_WPM`` words per minute +
``EXERCISE_MIN`` minutes per exercise; a session is rounded up to ``ROUND_MIN`` minutes.
"""
from __future__ import annotations

import csv
import math
import re
from pathlib import Path

HERE = Path(__file__).resolve().parent
READING_WPM = 120      # technical text read by second-language readers, with the code cells
EXERCISE_MIN = 5       # one-day pace: try, run, open the solution, compare
EXERCISE_MIN_TWO_DAY = 10  # two-day pace: the same, then discussed in plenary
ROUND_MIN = 5          # sessions are planned in 5-minute steps
HEADROOM = 0.3         # memory limit = measured peak + 30 % (TLJH advises 20-40 %)
CLASS_SIZE = 100       # the large class the sizing is written for
BURST_WINDOW_S = 600   # the whole class runs the heaviest notebook within 10 minutes
HUB_OVERHEAD_MB = 128  # TLJH's own services (TLJH resource-estimation guide)
BINDER_LIMIT_MB = 2048  # mybinder.org's memory limit per user (its user guide: 1-2 GB)

# (title_en, title_zh, notebooks); one list per day
ONE_DAY = [[
    ("Study design and data", "研究设计与数据", ["00", "01"]),
    ("Images, preprocessing, segmentation", "图像、预处理与分割", ["02", "03", "04"]),
    ("Features, reproducibility, harmonisation", "特征提取、可重复性与协调化", ["05", "06", "07"]),
    ("Statistics, model, evaluation", "统计、建模与评价", ["08", "09", "10"]),
]]
TWO_DAY = [
    [("Study design and data", "研究设计与数据", ["00", "01"]),
     ("Looking at images; preprocessing", "阅片与预处理", ["02", "03"]),
     ("Segmentation and feature extraction", "分割与特征提取", ["04", "05"]),
     ("Reproducibility and harmonisation", "可重复性与协调化", ["06", "07"])],
    [("Statistics and the Rad-score", "统计与影像组学评分", ["08", "09"]),
     ("Evaluation; a real cohort", "模型评价与真实队列", ["10", "11"]),
     ("Deep learning and radiogenomics", "深度学习与影像基因组学", ["12", "13"]),
     ("From study to manuscript", "从研究到论文", ["14"])],
]
DAY_START_MIN = 9 * 60
OPENING_MIN = {1: 15, 2: 10}   # day 1: welcome + log-in check; day 2: recap
BREAKS = {1: ("Coffee break", "茶歇", 15), 2: ("Lunch", "午餐", 60), 3: ("Coffee break", "茶歇", 15)}
CLOSING_MIN = 20               # questions, own-data clinic, feedback

T = {
    "en": {
        "nb": "notebook", "exec": "execution (s)", "cpu": "CPU (s)", "rss": "peak memory, kernel + children (MB)",
        "words": "markdown words", "ex": "exercises", "plan": "planned, one-day pace (min)", "total": "total",
        "time": "time", "session": "session", "notebooks": "notebooks", "min": "min",
        "opening": {1: "Welcome, log-in check (Binder / hub), how the notebooks work", 2: "Recap of day 1, questions"},
        "closing": "Questions, your own data, feedback",
        "day": "Day", "teaching": "teaching time", "sum": "Sessions", "not": "Not in this day",
        "self": "self-study after the course",
    },
    "zh": {
        "nb": "笔记本", "exec": "运行 (秒)", "cpu": "CPU (秒)", "rss": "内存峰值，内核及子进程 (MB)",
        "words": "说明文字词数", "ex": "练习", "plan": "计划，一天课程节奏 (分钟)", "total": "合计",
        "time": "时间", "session": "单元", "notebooks": "笔记本", "min": "分钟",
        "opening": {1: "开场、登录检查 (Binder / hub)、笔记本的使用方法", 2: "回顾第一天、答疑"},
        "closing": "答疑、学员自己的数据、反馈",
        "day": "第", "teaching": "授课时间", "sum": "各单元", "not": "本日程未包含",
        "self": "课后自学",
    },
}


def read_measurements(folder: Path = HERE) -> tuple[list[dict], dict]:
    """The per-notebook rows and the summary ``key=value`` pairs written by the benchmark."""
    with open(folder / "notebook_timings.tsv", encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh, delimiter="\t"))
    text = (folder / "notebook_timings.summary.txt").read_text(encoding="utf-8").strip()
    summary = dict(pair.split("=", 1) for pair in text.split())
    return rows, summary


def peak_mb(row: dict) -> int:
    """Peak memory of a notebook: kernel + children, never below the kernel's own exact peak."""
    return max(int(row["peak_tree_rss_mb"]), int(row["peak_kernel_rss_mb"]))


def notebook_minutes(row: dict, exercise_min: float = EXERCISE_MIN) -> float:
    """Execution + reading + exercises, in minutes, for one measured notebook."""
    return (float(row["exec_s"]) / 60 + int(row["md_words"]) / READING_WPM
            + int(row["exercises"]) * exercise_min)


def session_minutes(rows: list[dict], numbers: list[str], exercise_min: float = EXERCISE_MIN) -> int:
    by_number = {r["notebook"][:2]: r for r in rows}
    minutes = sum(notebook_minutes(by_number[n], exercise_min) for n in numbers)
    return int(math.ceil(minutes / ROUND_MIN) * ROUND_MIN)


def _clock(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


def measured_table(rows: list[dict], lang: str, summary: dict | None = None) -> str:
    t = T[lang]
    lines = [f"| {t['nb']} | {t['exec']} | {t['cpu']} | {t['rss']} | {t['words']} | {t['ex']} | {t['plan']} |",
             "|---|---:|---:|---:|---:|---:|---:|"]
    for r in rows:
        lines.append(f"| `{r['notebook']}` | {float(r['exec_s']):.0f} | {float(r['cpu_s']):.0f} | "
                     f"{peak_mb(r)} | {r['md_words']} | {r['exercises']} | "
                     f"{notebook_minutes(r):.0f} |")
    lines.append(f"| **{t['total']}** | {sum(float(r['exec_s']) for r in rows):.0f} | "
                 f"{sum(float(r['cpu_s']) for r in rows):.0f} | "
                 f"{max(peak_mb(r) for r in rows)} (max) | "
                 f"{sum(int(r['md_words']) for r in rows)} | {sum(int(r['exercises']) for r in rows)} | "
                 f"{sum(notebook_minutes(r) for r in rows):.0f} |")
    if summary:
        if lang == "en":
            lines.append(f"\nMeasured on {summary['cores']} cores, mean 1-minute load average "
                         f"{summary['mean_load_1min']} at the notebooks' ends; preparing the demo cohort "
                         f"took {summary['demo_prepare_s']} s before the first notebook.")
        else:
            lines.append(f"\n测量环境：{summary['cores']} 核，各笔记本结束时的 1 分钟平均负载均值为 "
                         f"{summary['mean_load_1min']}；第一个笔记本之前生成演示队列用时 {summary['demo_prepare_s']} 秒。")
    return "\n".join(lines)


def schedule(rows: list[dict], days: list, lang: str,
             exercise_min: float = EXERCISE_MIN) -> tuple[str, list[int]]:
    """A clock-time schedule; also the teaching minutes of each day (sessions only)."""
    t = T[lang]
    lines, teaching = [], []
    covered = set()
    for day, sessions in enumerate(days, start=1):
        if len(days) > 1:
            lines.append(f"**Day {day}**" if lang == "en" else f"**第 {day} 天**")
            lines.append("")
        lines += [f"| {t['time']} | {t['session']} | {t['notebooks']} | {t['min']} |", "|---|---|---|---:|"]
        now = DAY_START_MIN
        lines.append(f"| {_clock(now)} | {t['opening'][day]} | | {OPENING_MIN[day]} |")
        now += OPENING_MIN[day]
        minutes_day = 0
        for k, (title_en, title_zh, numbers) in enumerate(sessions, start=1):
            minutes = session_minutes(rows, numbers, exercise_min)
            minutes_day += minutes
            covered.update(numbers)
            title = title_en if lang == "en" else title_zh
            names = ", ".join(f"`{n}`" for n in numbers)
            lines.append(f"| {_clock(now)} | **{title}** | {names} | {minutes} |")
            now += minutes
            if k in BREAKS and k < len(sessions):
                name_en, name_zh, length = BREAKS[k]
                lines.append(f"| {_clock(now)} | {name_en if lang == 'en' else name_zh} | | {length} |")
                now += length
        lines.append(f"| {_clock(now)} | {t['closing']} | | {CLOSING_MIN} |")
        now += CLOSING_MIN
        lines.append(f"| {_clock(now)} | {'End' if lang == 'en' else '结束'} | | |")
        teaching.append(minutes_day)
        if lang == "en":
            lines.append(f"\nTeaching time (sessions only): {minutes_day} min = {minutes_day / 60:.1f} h.")
        else:
            lines.append(f"\n授课时间（仅各单元）：{minutes_day} 分钟 = {minutes_day / 60:.1f} 小时。")
        lines.append("")
    missing = [r["notebook"] for r in rows if r["notebook"][:2] not in covered]
    if missing:
        names = ", ".join(f"`{m}`" for m in missing)
        extra = sum(notebook_minutes(r, exercise_min) for r in rows if r["notebook"] in missing)
        lines.append(f"{t['not']}: {names} ({t['self']}, ~{extra:.0f} {t['min']}).")
    return "\n".join(lines).rstrip() + "\n", teaching


def sizing(rows: list[dict], summary: dict) -> dict:
    """Per-user memory / CPU and the server for ``CLASS_SIZE`` users, from the measurements."""
    heaviest = max(rows, key=peak_mb)
    busiest = max(rows, key=lambda r: float(r["cpu_s"]))
    server = float(summary["server_rss_mb"])
    peak_user = peak_mb(heaviest) + server
    guarantee_mb = int(math.ceil(peak_user / 128) * 128)
    limit_mb = int(math.ceil(peak_user * (1 + HEADROOM) / 256) * 256)
    cores = CLASS_SIZE * float(busiest["cpu_s"]) / BURST_WINDOW_S * 1.2
    return {
        "heaviest": heaviest["notebook"], "kernel_mb": peak_mb(heaviest),
        "server_mb": round(server), "peak_user_mb": round(peak_user),
        "guarantee": f"{guarantee_mb}M", "limit": f"{limit_mb}M",
        "tljh_ram_gb": int(math.ceil((CLASS_SIZE * limit_mb + HUB_OVERHEAD_MB) / 1024)),
        "busiest": busiest["notebook"], "cpu_s": round(float(busiest["cpu_s"])),
        "cores": int(math.ceil(cores)),
        "cpu_guarantee": round(math.ceil(cores) / CLASS_SIZE, 2),
        "disk_user_mb": round(float(summary["data_home_mb"])),
        "users": CLASS_SIZE,
        "fits_binder": peak_user <= BINDER_LIMIT_MB,
    }


def sizing_table(size: dict, lang: str) -> str:
    s = size
    if lang == "en":
        rows = [
            ("Peak memory of one kernel (+ children)", f"{s['kernel_mb']} MB in `{s['heaviest']}`"),
            ("Idle JupyterLab server per user", f"{s['server_mb']} MB"),
            ("Per-user peak", f"{s['peak_user_mb']} MB"),
            ("Memory guarantee / limit per user", f"{s['guarantee']} / {s['limit']} (peak + {HEADROOM:.0%})"),
            (f"Single server for {s['users']} concurrent users (TLJH)",
             f"{s['tljh_ram_gb']} GB RAM = {s['users']} x {s['limit']} + {HUB_OVERHEAD_MB} MB"),
            ("CPU of the busiest notebook", f"{s['cpu_s']} CPU-s in `{s['busiest']}`"),
            (f"Cores for {s['users']} users running it within {BURST_WINDOW_S // 60} min",
             f"{s['cores']} (+20 %); CPU guarantee {s['cpu_guarantee']} per user, limit 1-2"),
            ("Disk per user after all notebooks", f"{s['disk_user_mb']} MB (`RADNB_DATA`)"),
            (f"Per-user peak within mybinder.org's {BINDER_LIMIT_MB} MB", "yes" if s["fits_binder"] else "**no**"),
        ]
        head = "| quantity | measured / derived |"
    else:
        rows = [
            ("单个内核（含子进程）内存峰值", f"{s['kernel_mb']} MB，出现在 `{s['heaviest']}`"),
            ("每位用户空闲 JupyterLab 服务器", f"{s['server_mb']} MB"),
            ("每位用户峰值", f"{s['peak_user_mb']} MB"),
            ("每位用户内存保证值 / 上限", f"{s['guarantee']} / {s['limit']}（峰值 + {HEADROOM:.0%}）"),
            (f"{s['users']} 名同时在线用户的单台服务器 (TLJH)",
             f"{s['tljh_ram_gb']} GB 内存 = {s['users']} x {s['limit']} + {HUB_OVERHEAD_MB} MB"),
            ("最耗 CPU 的笔记本", f"`{s['busiest']}` 共 {s['cpu_s']} CPU 秒"),
            (f"{s['users']} 人在 {BURST_WINDOW_S // 60} 分钟内运行它所需核数",
             f"{s['cores']}（+20%）；每位用户 CPU 保证值 {s['cpu_guarantee']}，上限 1-2"),
            ("全部笔记本运行后每位用户的磁盘占用", f"{s['disk_user_mb']} MB (`RADNB_DATA`)"),
            (f"每位用户峰值是否低于 mybinder.org 的 {BINDER_LIMIT_MB} MB", "是" if s["fits_binder"] else "**否**"),
        ]
        head = "| 项目 | 实测 / 推算 |"
    return "\n".join([head, "|---|---|"] + [f"| {a} | {b} |" for a, b in rows])


def tljh_commands(size: dict, lang: str) -> str:
    """Step 5 of the TLJH recipe: limits from the measured sizing."""
    c = {"en": ("# per-user limits from the measured sizing; JupyterLab by default; stop idle servers after 1 h",),
         "zh": ("# 按实测结果设置每位用户的上限；默认打开 JupyterLab；空闲 1 小时的服务器自动停止",)}[lang]
    return "\n".join([
        "```bash", c[0],
        f"sudo tljh-config set limits.memory {size['limit']}",
        "sudo tljh-config set limits.cpu 2",
        "sudo tljh-config set user_environment.default_app jupyterlab",
        "sudo tljh-config set services.cull.timeout 3600",
        "sudo tljh-config reload",
        "```"])


def z2jh_config(size: dict, lang: str) -> str:
    """The Helm ``config.yaml`` of the Z2JH recipe, with the measured sizing."""
    note = {
        "en": ["# measured per-user peak, rounded up", "# peak + 30 %",
               "# cores for the class / users (sizing table)",
               "# the image's home (notebooks, demo cohort) stays visible; changes are lost when",
               "# the server stops: participants download what they changed",
               "# stop servers idle for 1 hour", "# the image is on every node before the class logs in",
               "# spare room so the next log-ins do not wait for a new node"],
        "zh": ["# 实测每位用户峰值，向上取整", "# 峰值 + 30%", "# 全班所需核数 / 用户数（见资源估算表）",
               "# 镜像中的主目录（笔记本、演示队列）保持可见；服务器停止后修改会丢失，",
               "# 请学员下载自己修改过的笔记本", "# 空闲 1 小时的服务器自动停止",
               "# 上课前镜像已拉取到每个节点", "# 预留空位，后续登录无需等待新节点"],
    }[lang]
    return "\n".join([
        "```yaml",
        "singleuser:",
        "  image:",
        "    name: <registry>/radnb",
        "    tag: <release-tag>",
        "  defaultUrl: /lab/tree/notebooks",
        "  memory:",
        f"    guarantee: {size['guarantee']}    {note[0]}",
        f"    limit: {size['limit']}    {note[1]}",
        "  cpu:",
        f"    guarantee: {size['cpu_guarantee']}    {note[2]}",
        "    limit: 2",
        "  storage:",
        f"    type: none    {note[3]}",
        f"                  {note[4]}",
        "cull:",
        "  enabled: true",
        f"  timeout: 3600    {note[5]}",
        "  every: 300",
        "prePuller:",
        "  continuous:",
        f"    enabled: true    {note[6]}",
        "scheduling:",
        "  userScheduler:",
        "    enabled: true",
        "  userPlaceholder:",
        "    enabled: true",
        f"    replicas: 10    {note[7]}",
        "hub:",
        "  config:",
        "    JupyterHub:",
        "      authenticator_class: dummy",
        "    DummyAuthenticator:",
        "      password: <one password for the course>",
        "```"])


def blocks(lang: str, folder: Path = HERE) -> dict[str, str]:
    rows, summary = read_measurements(folder)
    one, _ = schedule(rows, ONE_DAY, lang)
    two, _ = schedule(rows, TWO_DAY, lang, EXERCISE_MIN_TWO_DAY)
    size = sizing(rows, summary)
    return {
        "measured": measured_table(rows, lang, summary),
        "one-day": one,
        "two-day": two,
        "sizing": sizing_table(size, lang),
        "tljh": tljh_commands(size, lang),
        "z2jh": z2jh_config(size, lang),
    }


def fill(text: str, generated: dict[str, str]) -> str:
    """Replace every ``<!-- BEGIN generated:NAME -->`` block of ``text``."""
    for name, body in generated.items():
        pattern = re.compile(rf"(<!-- BEGIN generated:{name} -->\n).*?(<!-- END generated:{name} -->)", re.S)
        if not pattern.search(text):
            raise ValueError(f"marker 'generated:{name}' missing; add the BEGIN/END comments first")
        text = pattern.sub(lambda m: m.group(1) + body.rstrip("\n") + "\n" + m.group(2), text)
    return text


def outdated(folder: Path = HERE) -> list[str]:
    """READMEs whose generated blocks differ from the measurements (empty: all in sync)."""
    stale = []
    for name, lang in (("README.md", "en"), ("README.zh.md", "zh")):
        text = (folder / name).read_text(encoding="utf-8")
        if fill(text, blocks(lang, folder)) != text:
            stale.append(name)
    return stale


def main() -> None:
    for name, lang in (("README.md", "en"), ("README.zh.md", "zh")):
        path = HERE / name
        text = fill(path.read_text(encoding="utf-8"), blocks(lang))
        tmp = path.with_suffix(".tmp")
        tmp.write_text(text, encoding="utf-8")
        tmp.replace(path)
        print(f"updated {path}")


if __name__ == "__main__":
    main()
