"""Words and number formats of the report, in English or Vietnamese.

Vietnamese numbers use a dot between thousands and a comma before decimals (1.234.567 VND,
37,8 %); months are written 01/2023. In the workbook numbers stay numbers: only the cell
format changes, tagged with the Vietnamese locale (LCID 0x042A) so that a spreadsheet
program that honours it shows Vietnamese separators.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

LANGS = ("en", "vi")

# key -> (English, Vietnamese). Templates use str.format fields.
TEXT: dict[str, tuple[str, str]] = {
    # ------------------------------------------------------------------ page
    "report": ("Welfare payment report", "Báo cáo chi trả trợ cấp xã hội"),
    "comparison_report": ("Comparison of payment strategies", "So sánh các phương án chi trả"),
    "subtitle_run": (
        "{province} · scenario {scenario} · {start} to {end} ({months} months) · seed {seed}",
        "{province} · kịch bản {scenario} · {start} đến {end} ({months} tháng) · hạt giống {seed}",
    ),
    "subtitle_comparison": (
        "{names} against the base ({base}) · {seeds} seeds each",
        "{names} so với phương án gốc ({base}) · mỗi phương án {seeds} lần chạy (hạt giống)",
    ),
    "headline": ("Headline figures", "Các chỉ số chính"),
    "charts": ("Charts", "Biểu đồ"),
    "reading": ("Reading", "Nhận xét"),
    "by_district_title": ("Districts at a glance", "Tóm tắt theo huyện"),
    "about": ("About this report", "Về báo cáo này"),
    "tables_in_xlsx": (
        "Every table behind these charts, with the scenario's assumptions and their sources, is in "
        "report.xlsx next to this file.",
        "Toàn bộ bảng số liệu của các biểu đồ, cùng các giả định của kịch bản và nguồn của chúng, "
        "nằm trong tệp report.xlsx cùng thư mục.",
    ),
    "assumption_count": (
        "Of the scenario's {total} values, {sourced} carry a published source, {assumed} are "
        "assumptions and {other} are model defaults or settings.",
        "Trong {total} giá trị của kịch bản, {sourced} giá trị có nguồn công bố, {assumed} giá trị "
        "là giả định và {other} giá trị là mặc định của mô hình hoặc thiết lập.",
    ),
    "sample_note": (
        "Counts are of a {pct} sample of beneficiaries (geography.sample_fraction).",
        "Các con số được tính trên mẫu {pct} người hưởng (geography.sample_fraction).",
    ),
    "scenario_changed": (
        "The scenario file has changed since this run: its sources may not match the values used.",
        "Tệp kịch bản đã thay đổi sau lần chạy này: nguồn ghi trong tệp có thể không khớp với giá "
        "trị đã dùng.",
    ),
    "scenario_missing": (
        "The scenario file {file} was not found; sources are taken from the model's descriptions.",
        "Không tìm thấy tệp kịch bản {file}; nguồn được lấy từ mô tả của mô hình.",
    ),
    "made_by": ("Made by welfare-sim {version}.", "Tạo bởi welfare-sim {version}."),
    "figure": ("Figure", "Chỉ số"),
    "value": ("Value", "Giá trị"),
    "unit": ("Unit", "Đơn vị"),
    "no_data": ("no data", "không có số liệu"),
    # ------------------------------------------------------------------ headline figures
    "h.beneficiaries_first": ("Beneficiaries, first month", "Số người hưởng, tháng đầu"),
    "h.beneficiaries_last": ("Beneficiaries, last month", "Số người hưởng, tháng cuối"),
    "h.coverage_first": ("Account coverage, first month", "Tỷ lệ có tài khoản, tháng đầu"),
    "h.coverage_last": ("Account coverage, last month", "Tỷ lệ có tài khoản, tháng cuối"),
    "h.cashless_run": (
        "Cashless share of payments, whole run",
        "Tỷ lệ chi trả không dùng tiền mặt, cả kỳ",
    ),
    "h.cashless_last": (
        "Cashless share of payments, last month",
        "Tỷ lệ chi trả không dùng tiền mặt, tháng cuối",
    ),
    "h.cashless_amount": (
        "Cashless share of money paid, whole run",
        "Tỷ lệ số tiền chi trả không dùng tiền mặt, cả kỳ",
    ),
    "h.days_mean": (
        "Days from run start to money in hand, mean",
        "Số ngày từ đầu kỳ chi trả đến khi nhận tiền, trung bình",
    ),
    "h.days_p95": (
        "Days from run start to money in hand, 95th percentile",
        "Số ngày đến khi nhận tiền, phân vị 95",
    ),
    "h.wait_mean": (
        "Queue wait at {kind}, mean of all visits",
        "Thời gian chờ tại {kind}, trung bình mọi lượt đến",
    ),
    "h.wait_p50": (
        "Queue wait at {kind}, median (half of visits wait less)",
        "Thời gian chờ tại {kind}, trung vị (một nửa số lượt chờ ít hơn)",
    ),
    "h.wait_p95": (
        "Queue wait at {kind}, 95th percentile (1 visit in 20 waits longer)",
        "Thời gian chờ tại {kind}, phân vị 95 (1 trong 20 lượt chờ lâu hơn)",
    ),
    "h.unpaid_share": ("Unpaid in a month: {group}", "Chưa nhận được tiền trong tháng: {group}"),
    "h.suspended_last": (
        "Suspended in the last month: {group}",
        "Bị tạm dừng chi trả tháng cuối: {group}",
    ),
    "h.failed_credits": ("Failed credits (returned)", "Chuyển khoản không thành công (bị trả lại)"),
    "h.failed_credit_vnd": ("Failed credits, amount", "Chuyển khoản không thành công, số tiền"),
    "h.payments_total": ("Payments made", "Số lượt chi trả"),
    "h.state_per_payment": (
        "Cost per payment to the state",
        "Chi phí mỗi lượt chi trả của Nhà nước",
    ),
    "h.beneficiary_per_payment": (
        "Cost per payment to the beneficiary (travel, time, fees)",
        "Chi phí mỗi lượt nhận tiền của người hưởng (đi lại, thời gian, phí)",
    ),
    "h.state_total": ("Total cost to the state", "Tổng chi phí của Nhà nước"),
    "h.beneficiary_total": ("Total cost to beneficiaries", "Tổng chi phí của người hưởng"),
    "h.entitled": ("Money due (entitlements)", "Tổng số tiền được hưởng"),
    "h.forfeited": ("Money forfeited", "Số tiền bị mất quyền nhận"),
    "h.owed_end": ("Money still owed at the end", "Số tiền còn nợ cuối kỳ"),
    "card.coverage": ("accounts by the last month", "có tài khoản vào tháng cuối"),
    "card.cashless": (
        "of payments into accounts, last month",
        "lượt chi trả qua tài khoản, tháng cuối",
    ),
    "card.days": ("mean days to money in hand", "số ngày trung bình đến khi nhận tiền"),
    "card.unpaid": ("unpaid in an average month", "chưa nhận được tiền trong một tháng"),
    "card.state": ("cost per payment to the state", "chi phí mỗi lượt chi trả của Nhà nước"),
    "card.beneficiary": ("cost per payment to beneficiaries", "chi phí mỗi lượt của người hưởng"),
    "unit.people": ("people", "người"),
    "unit.share": ("% of beneficiaries", "% người hưởng"),
    "unit.share_payments": ("% of payments", "% lượt chi trả"),
    "unit.share_money": ("% of money paid", "% số tiền chi trả"),
    "unit.share_group": ("% of the group's beneficiary-months", "% số người-tháng của nhóm"),
    "unit.share_group_last": ("% of the group, last month", "% của nhóm, tháng cuối"),
    "unit.days": ("days", "ngày"),
    "unit.min": ("minutes", "phút"),
    "unit.vnd": ("VND", "VND"),
    "unit.mn_vnd": ("million VND", "triệu VND"),
    "unit.bn_vnd": ("billion VND", "tỷ VND"),
    "unit.count": ("count", "lượt"),
    # ------------------------------------------------------------------ names
    "province_line": ("Province", "Toàn tỉnh"),
    "other_districts": ("other districts", "các huyện khác"),
    "district": ("District", "Huyện"),
    "commune": ("Commune", "Xã"),
    "commune_no": ("Commune no. in district", "Số thứ tự xã trong huyện"),
    "commune_id": ("Commune id", "Mã xã"),
    "commune_label": ("commune {n}", "xã {n}"),
    "month": ("Month", "Tháng"),
    "period": ("Month", "Tháng"),
    "day": ("Day of month", "Ngày trong tháng"),
    "kind": ("Kind of point", "Loại điểm chi trả"),
    "subgroup": ("Group", "Nhóm"),
    "scenario": ("Strategy", "Phương án"),
    "seed": ("Seed", "Hạt giống"),
    "base": ("base", "gốc"),
    "kind.commune_point": ("commune points", "điểm chi trả xã"),
    "kind.post_office": ("district post offices", "bưu điện huyện"),
    "kind.atm": ("ATMs", "cây ATM"),
    "group.all": ("all beneficiaries", "tất cả người hưởng"),
    "group.elderly_60_plus": ("elderly (60+)", "người cao tuổi (60+)"),
    "group.aged_80_plus": ("aged 80+", "người từ 80 tuổi"),
    "group.disabled": ("disabled", "người khuyết tật"),
    "group.ethnic_minority": ("ethnic minority", "người dân tộc thiểu số"),
    "group.mountain_communes": ("mountain communes", "xã miền núi"),
    "channel.account": ("into an account", "qua tài khoản"),
    "channel.cash_commune": ("in cash at a commune point", "bằng tiền mặt tại điểm chi trả xã"),
    "channel.cash_counter": ("in cash at the post office", "bằng tiền mặt tại bưu điện"),
    "channel.home": ("at home", "tại nhà"),
    # ------------------------------------------------------------------ charts
    "c.coverage.title": (
        "Account coverage by district",
        "Tỷ lệ người hưởng có tài khoản theo huyện",
    ),
    "c.coverage.y": ("beneficiaries with an account (%)", "người hưởng có tài khoản (%)"),
    "c.cashless.title": (
        "Cashless share of payments by district",
        "Tỷ lệ chi trả không dùng tiền mặt theo huyện",
    ),
    "c.cashless.y": (
        "payments made into accounts (% of payments)",
        "lượt chi trả qua tài khoản (% lượt chi trả)",
    ),
    "c.month_x": ("month", "tháng"),
    "c.coverage.read": (
        "Account coverage went from {first} to {last} across the province; {low} ended lowest at "
        "{low_v} and {high} highest at {high_v}.",
        "Tỷ lệ có tài khoản của toàn tỉnh đi từ {first} lên {last}; {low} thấp nhất vào cuối kỳ với"
        " "
        "{low_v}, {high} cao nhất với {high_v}.",
    ),
    "c.cashless.read": (
        "The share of payments made into accounts went from {first} in {p0} to {last} in {p1}; "
        "{low} "
        "ended lowest at {low_v} and {high} highest at {high_v}.",
        "Tỷ lệ lượt chi trả qua tài khoản đi từ {first} ({p0}) đến {last} ({p1}); {low} thấp nhất "
        "vào cuối kỳ với {low_v}, {high} cao nhất với {high_v}.",
    ),
    "c.days.title": (
        "Days from the start of the payment run to money in hand",
        "Số ngày từ đầu kỳ chi trả đến khi người hưởng nhận được tiền",
    ),
    "c.days.x": (
        "days after the funds arrive (day {start} of the month)",
        "số ngày sau khi có kinh phí (ngày {start} của tháng)",
    ),
    "c.days.y": (
        "payments (% of all payments in hand)",
        "lượt chi trả (% tổng số lượt đã nhận tiền)",
    ),
    "c.days.read": (
        "Half of all payments were in hand within {p50} days and 95% within {p95} days; payments "
        "{fast} took {fast_v} days on average and payments {slow} {slow_v} days.",
        "Một nửa số lượt chi trả đến tay người hưởng trong vòng {p50} ngày và 95 % trong vòng {p95}"
        " "
        "ngày; chi trả {fast} mất trung bình {fast_v} ngày, chi trả {slow} mất {slow_v} ngày.",
    ),
    "c.days_month.y": (
        "mean days to money in hand (days)",
        "số ngày trung bình đến khi nhận tiền (ngày)",
    ),
    "c.days_month.read": (
        "The mean wait for money went from {first} days in {p0} to {last} days in {p1}; {slow} was "
        "slowest over the run at {slow_v} days.",
        "Thời gian trung bình đến khi nhận tiền đi từ {first} ngày ({p0}) đến {last} ngày ({p1}); "
        "{slow} chậm nhất cả kỳ với {slow_v} ngày.",
    ),
    "c.waits.title": (
        "Queue waits by day of the month, at each kind of point",
        "Thời gian chờ theo ngày trong tháng, tại từng loại điểm chi trả",
    ),
    "c.waits.y": ("wait in the queue (minutes)", "thời gian chờ (phút)"),
    "c.waits.visits": ("visits per month (mean)", "lượt đến mỗi tháng (trung bình)"),
    "c.waits.mean": ("mean wait", "thời gian chờ trung bình"),
    "c.waits.p95": ("95th percentile (median over months)", "phân vị 95 (trung vị các tháng)"),
    "c.waits.read": (
        "Waits were longest at {kind} on day {day}, with a mean of {mean} min and a 95th percentile"
        " of "
        "{p95} min; at {calm} the mean wait never exceeded {calm_v} min.",
        "Thời gian chờ dài nhất tại {kind} vào ngày {day}: trung bình {mean} phút, phân vị 95 là "
        "{p95} "
        "phút; tại {calm}, thời gian chờ trung bình không quá {calm_v} phút.",
    ),
    "c.groups.title": (
        "Unpaid and suspended beneficiaries by group",
        "Người hưởng chưa nhận được tiền và bị tạm dừng theo nhóm",
    ),
    "c.groups.unpaid_x": (
        "unpaid in an average month (% of the group)",
        "chưa nhận được tiền trong tháng (% của nhóm)",
    ),
    "c.groups.suspended_x": (
        "suspended in the last month (% of the group)",
        "bị tạm dừng vào tháng cuối (% của nhóm)",
    ),
    "c.groups.read": (
        "{worst} had the highest unpaid share, {worst_v} of beneficiary-months against {all_v} for "
        "all "
        "beneficiaries; {susp} had the most suspended in the last month ({susp_v}).",
        "{worst} có tỷ lệ chưa nhận được tiền cao nhất, {worst_v} số người-tháng so với {all_v} của"
        " "
        "tất cả người hưởng; {susp} có tỷ lệ bị tạm dừng cao nhất vào tháng cuối ({susp_v}).",
    ),
    "c.cost.title": (
        "Cost per payment to the state and to beneficiaries",
        "Chi phí mỗi lượt chi trả của Nhà nước và của người hưởng",
    ),
    "c.cost.y": ("cost per payment (VND)", "chi phí mỗi lượt chi trả (VND)"),
    "c.cost.state": (
        "state: fees, staff, cash transport",
        "Nhà nước: phí, nhân sự, vận chuyển tiền",
    ),
    "c.cost.beneficiary": (
        "beneficiaries: travel, time, fees",
        "người hưởng: đi lại, thời gian, phí",
    ),
    "c.cost.read": (
        "The state's cost per payment went from {s0} in {p0} to {s1} in {p1}, and the "
        "beneficiaries' "
        "from {b0} to {b1}.",
        "Chi phí mỗi lượt chi trả của Nhà nước đi từ {s0} ({p0}) đến {s1} ({p1}), của người hưởng "
        "từ "
        "{b0} đến {b1}.",
    ),
    "c.scen_coverage.title": ("Account coverage by strategy", "Tỷ lệ có tài khoản theo phương án"),
    "c.scen_cashless.title": (
        "Cashless share of payments by strategy",
        "Tỷ lệ chi trả không dùng tiền mặt theo phương án",
    ),
    "c.scen.band": (
        "lines: mean over seeds; band: lowest to highest seed",
        "đường: trung bình các lần chạy; dải: thấp nhất đến cao nhất",
    ),
    "c.scen.read": (
        "By {period}, {best} reached {best_v} against {base_v} for the base ({base}); {worst} ended"
        " lowest at {worst_v}.",
        "Đến {period}, {best} đạt {best_v} so với {base_v} của phương án gốc ({base}); {worst} thấp"
        " nhất với {worst_v}.",
    ),
    "c.scen.read_base_lowest": (
        "By {period}, {best} reached {best_v} against {base_v} for the base ({base}); every "
        "strategy ended at or above the base.",
        "Đến {period}, {best} đạt {best_v} so với {base_v} của phương án gốc ({base}); mọi phương "
        "án đều bằng hoặc cao hơn phương án gốc.",
    ),
    "c.scen.read_base_best": (
        "By {period}, no strategy ended above the base ({base}, {base_v}); {worst} ended lowest at "
        "{worst_v}.",
        "Đến {period}, không phương án nào cao hơn phương án gốc ({base}, {base_v}); {worst} thấp "
        "nhất với {worst_v}.",
    ),
    "c.forest.title": (
        "Each strategy against the base ({base}): difference and interval",
        "Từng phương án so với phương án gốc ({base}): chênh lệch và khoảng",
    ),
    "c.forest.x": ("{unit}", "{unit}"),
    "c.forest.legend_yes": ("distinguishable from the base", "khác biệt rõ so với phương án gốc"),
    "c.forest.legend_no": ("not distinguishable", "không khác biệt rõ"),
    "c.forest.legend": (
        "dot: mean difference over seeds; bar: 95% interval; blue: distinguishable from zero, "
        "grey: not",
        "chấm: chênh lệch trung bình; vạch: khoảng tin cậy 95 %; xanh: khác 0 rõ ràng, xám: không",
    ),
    "c.forest.read": (
        "On {figure}, {scenario} moved furthest from the base: {diff} (95% interval {interval})"
        "{cost}; {n_yes} of the {n_all} differences in these panels are distinguishable from zero.",
        "Về {figure}, {scenario} khác phương án gốc nhiều nhất: {diff} (khoảng 95 %: {interval})"
        "{cost}; {n_yes} trong {n_all} chênh lệch ở các ô trên khác 0 một cách rõ ràng.",
    ),
    "c.forest.cost": (
        ", changing the state's total cost by {diff} ({interval})",
        ", tổng chi phí của Nhà nước thay đổi {diff} ({interval})",
    ),
    "c.forest.read_none": (
        "None of the {n_all} differences is distinguishable from zero with these seeds.",
        "Không chênh lệch nào trong {n_all} chênh lệch khác 0 một cách rõ ràng với các lần chạy "
        "này.",
    ),
    "c.forest.read_one_seed": (
        "With one seed there is no interval: each difference is a single draw; run the comparison "
        "with --seeds 5 or more before reading anything into it.",
        "Chỉ có một lần chạy nên không có khoảng: mỗi chênh lệch chỉ là một lần rút ngẫu nhiên; "
        "hãy so sánh với --seeds 5 trở lên trước khi kết luận.",
    ),
    "unit.pp": ("percentage points", "điểm phần trăm"),
    # ------------------------------------------------------------------ comparison table
    "t.legend": (
        "Each cell: the strategy's mean over the seeds; below it, the difference from the base "
        "and its 95% interval (paired by seed). ● = the seeds tell the difference from zero.",
        "Mỗi ô: giá trị trung bình của phương án qua các lần chạy; dòng dưới: chênh lệch so với "
        "phương án gốc và khoảng tin cậy 95 % (ghép cặp theo lần chạy). ● = chênh lệch khác 0 "
        "một cách rõ ràng.",
    ),
    "to": ("to", "đến"),
    "t.mean": ("Mean over seeds", "Trung bình các lần chạy"),
    "t.diff": ("Difference from base", "Chênh lệch so với gốc"),
    "t.interval": ("Interval", "Khoảng"),
    "t.lo": ("Interval, low", "Khoảng, cận dưới"),
    "t.hi": ("Interval, high", "Khoảng, cận trên"),
    "t.distinguishable": ("Distinguishable", "Khác biệt rõ"),
    "t.n_seeds": ("Seeds", "Số lần chạy"),
    "yes": ("yes", "có"),
    "no": ("no", "không"),
    # ------------------------------------------------------------------ workbook
    "sheet.headline": ("Headline", "Chỉ số chính"),
    "sheet.by_month": ("By month", "Theo tháng"),
    "sheet.by_district": ("By district", "Theo huyện"),
    "sheet.district_month": ("District x month", "Huyện x tháng"),
    "sheet.by_commune": ("By commune", "Theo xã"),
    "sheet.commune_month": ("Commune x month", "Xã x tháng"),
    "sheet.points": ("Points", "Điểm chi trả"),
    "sheet.waits": ("Waits", "Thời gian chờ"),
    "sheet.subgroups": ("Subgroups", "Nhóm đối tượng"),
    "sheet.ledger": ("Money ledger", "Sổ theo dõi tiền"),
    "sheet.funnel": ("Account funnel", "Mở tài khoản"),
    "sheet.assumptions": ("Assumptions", "Giả định"),
    "sheet.about": ("About", "Thông tin"),
    "sheet.runs": ("Runs", "Các lần chạy"),
    "sheet.timeseries": ("By month", "Theo tháng"),
    "sheet.strategies": ("Strategies", "Các phương án"),
    "t.figure_key": ("Figure key", "Mã chỉ số"),
    "a.key": ("Key (for --set)", "Khóa (dùng với --set)"),
    "a.meaning": ("Meaning", "Ý nghĩa"),
    "a.status": ("Status", "Loại"),
    "a.source": (
        "Source or note (from the scenario file)",
        "Nguồn hoặc ghi chú (trong tệp kịch bản)",
    ),
    "a.at": ("Comment found at", "Ghi chú nằm ở"),
    "a.refs": ("References", "Tài liệu tham khảo"),
    "a.differs": ("Differs from base", "Khác phương án gốc"),
    "status.sourced": ("sourced", "có nguồn"),
    "status.assumption": ("assumption", "giả định"),
    "status.mixed": ("sourced, partly assumed", "có nguồn, một phần giả định"),
    "status.default": ("model default", "mặc định của mô hình"),
    "status.override": ("set on the command line", "đặt khi chạy (--set)"),
    "status.setting": ("run setting", "thiết lập lần chạy"),
    "status.unmarked": ("no source given", "chưa ghi nguồn"),
    "about.item": ("Item", "Mục"),
    "about.folder": ("Folder", "Thư mục"),
    "about.scenario_file": ("Scenario file", "Tệp kịch bản"),
    "about.overrides": ("Overrides (--set)", "Giá trị thay đổi (--set)"),
    "about.git": ("Model version (git commit)", "Phiên bản mô hình (git commit)"),
    "about.packages": ("Packages", "Thư viện"),
    "about.scenario_check": ("Scenario file check", "Kiểm tra tệp kịch bản"),
    "about.matches": (
        "the file still gives the values of this run",
        "tệp vẫn cho đúng các giá trị của lần chạy này",
    ),
    "about.files": ("Scenario files", "Các tệp kịch bản"),
    "about.seeds": ("Seeds", "Các hạt giống"),
    "about.period": ("Period simulated", "Thời kỳ mô phỏng"),
    "about.period_value": (
        "{start} to {end} ({months} months)",
        "{start} đến {end} ({months} tháng)",
    ),
    "none": ("none", "không có"),
}

# Column headers of the workbook and HTML tables (units in brackets).
COLUMNS: dict[str, tuple[str, str]] = {
    "period": ("Month", "Tháng"),
    "month": ("Month no. (0 = first)", "Tháng thứ (0 = đầu)"),
    "district": ("District no.", "Mã huyện"),
    "district_name": ("District", "Huyện"),
    "commune": ("Commune id", "Mã xã"),
    "commune_no": ("Commune no. in district", "Số thứ tự xã trong huyện"),
    "communes": ("Communes", "Số xã"),
    "category": ("Category", "Đối tượng"),
    "beneficiaries": ("Beneficiaries", "Số người hưởng"),
    "beneficiaries_first": ("Beneficiaries, first month", "Số người hưởng, tháng đầu"),
    "beneficiaries_last": ("Beneficiaries, last month", "Số người hưởng, tháng cuối"),
    "with_account": ("With an account", "Có tài khoản"),
    "without_account": ("Without an account", "Chưa có tài khoản"),
    "account_coverage": ("Account coverage (%)", "Tỷ lệ có tài khoản (%)"),
    "coverage_first": ("Account coverage, first month (%)", "Tỷ lệ có tài khoản, tháng đầu (%)"),
    "coverage_last": ("Account coverage, last month (%)", "Tỷ lệ có tài khoản, tháng cuối (%)"),
    "on_account_list": ("On the account payment list", "Trong danh sách chi trả qua tài khoản"),
    "payments": ("Payments made", "Số lượt chi trả"),
    "paid_into_account": ("Paid into an account", "Chi trả qua tài khoản"),
    "paid_in_cash": ("Paid in cash", "Chi trả tiền mặt"),
    "paid_at_commune_point": ("Paid in cash at the commune point", "Tiền mặt tại điểm chi trả xã"),
    "paid_at_post_office": ("Paid in cash at the post office", "Tiền mặt tại bưu điện"),
    "paid_at_home": ("Paid at home", "Chi trả tại nhà"),
    "paid_partly": ("Paid partly", "Chi trả một phần"),
    "cashless_share": ("Cashless share of payments (%)", "Tỷ lệ chi trả không dùng tiền mặt (%)"),
    "cashless_last": (
        "Cashless share, last month (%)",
        "Tỷ lệ không dùng tiền mặt, tháng cuối (%)",
    ),
    "cashless_run": ("Cashless share, whole run (%)", "Tỷ lệ không dùng tiền mặt, cả kỳ (%)"),
    "unpaid": ("Unpaid", "Chưa nhận được tiền"),
    "unpaid_share": ("Unpaid share (%)", "Tỷ lệ chưa nhận được tiền (%)"),
    "unpaid_share_run": (
        "Unpaid, share of beneficiary-months (%)",
        "Chưa nhận được tiền, % người-tháng",
    ),
    "held": ("Held (record mismatch)", "Tạm giữ (sai lệch hồ sơ)"),
    "failed_credits": ("Failed credits (returned)", "Chuyển khoản bị trả lại"),
    "uncollected": ("Uncollected", "Không đến nhận"),
    "suspended": ("Suspended", "Bị tạm dừng"),
    "suspended_share": ("Suspended share (%)", "Tỷ lệ bị tạm dừng (%)"),
    "suspended_last": ("Suspended, last month", "Bị tạm dừng, tháng cuối"),
    "drive_reached": ("Reached by an account drive", "Được đợt vận động mở tài khoản tiếp cận"),
    "entitled_vnd": ("Entitled (VND)", "Được hưởng (VND)"),
    "paid_vnd": ("Paid (VND)", "Đã chi trả (VND)"),
    "paid_into_account_vnd": ("Paid into accounts (VND)", "Chi trả qua tài khoản (VND)"),
    "paid_in_cash_vnd": ("Paid in cash (VND)", "Chi trả tiền mặt (VND)"),
    "paid_at_home_vnd": ("Paid at home (VND)", "Chi trả tại nhà (VND)"),
    "failed_credit_vnd": ("Failed credits (VND)", "Chuyển khoản bị trả lại (VND)"),
    "owed_end_vnd": ("Owed at month end (VND)", "Còn nợ cuối tháng (VND)"),
    "withdrawn_vnd": ("Withdrawn from accounts (VND)", "Rút từ tài khoản (VND)"),
    "trips": ("Trips to a point", "Số chuyến đi đến điểm chi trả"),
    "days_to_money_mean": (
        "Days to money in hand, mean (days)",
        "Số ngày đến khi nhận tiền, trung bình (ngày)",
    ),
    "travel_cost_vnd": ("Beneficiaries' travel cost (VND)", "Chi phí đi lại của người hưởng (VND)"),
    "time_cost_vnd": ("Beneficiaries' time cost (VND)", "Chi phí thời gian của người hưởng (VND)"),
    "beneficiary_fees_vnd": ("Beneficiaries' fees (VND)", "Phí người hưởng trả (VND)"),
    "state_fees_vnd": ("State's payment fees (VND)", "Phí chi trả Nhà nước trả (VND)"),
    "point_cost_vnd": (
        "State's staff and cash transport (VND)",
        "Nhân sự và vận chuyển tiền của Nhà nước (VND)",
    ),
    "state_cost_vnd": ("Cost to the state (VND)", "Chi phí của Nhà nước (VND)"),
    "state_per_payment": (
        "Cost per payment to the state (VND)",
        "Chi phí mỗi lượt của Nhà nước (VND)",
    ),
    "beneficiary_cost_vnd": ("Cost to beneficiaries (VND)", "Chi phí của người hưởng (VND)"),
    "beneficiary_per_payment": (
        "Cost per payment to beneficiaries (VND)",
        "Chi phí mỗi lượt của người hưởng (VND)",
    ),
    "point": ("Point id", "Mã điểm"),
    "kind": ("Kind of point", "Loại điểm"),
    "open_days": ("Days open", "Số ngày mở"),
    "down_days": ("Days down", "Số ngày gián đoạn"),
    "visits": ("Visits", "Lượt đến"),
    "served": ("Served", "Được phục vụ"),
    "float_vnd": ("Cash delivered (VND)", "Tiền mặt được cấp (VND)"),
    "wait_min_mean": ("Wait, mean (min)", "Thời gian chờ trung bình (phút)"),
    "wait_min_p50": ("Wait, median (min)", "Thời gian chờ, trung vị (phút)"),
    "wait_min_p95": ("Wait, 95th percentile (min)", "Thời gian chờ, phân vị 95 (phút)"),
    "staff_cost_vnd": ("Staff cost (VND)", "Chi phí nhân sự (VND)"),
    "cash_transport_cost_vnd": ("Cash transport cost (VND)", "Chi phí vận chuyển tiền (VND)"),
    "day": ("Day of month", "Ngày trong tháng"),
    "turned_away_no_cash": ("Turned away: no cash", "Phải về: hết tiền mặt"),
    "not_reached": ("Not reached before closing", "Chưa đến lượt khi đóng cửa"),
    "found_closed": ("Found closed", "Điểm đóng cửa"),
    "subgroup": ("Group", "Nhóm"),
    "scenario": ("Strategy", "Phương án"),
    "seed": ("Seed", "Hạt giống"),
    "figure": ("Figure", "Chỉ số"),
    "label": ("Figure", "Chỉ số"),
    "unit": ("Unit", "Đơn vị"),
    "mean": ("Mean over seeds", "Trung bình các lần chạy"),
    "diff_mean": ("Difference from base", "Chênh lệch so với gốc"),
    "diff_lo": ("Interval, low", "Khoảng, cận dưới"),
    "diff_hi": ("Interval, high", "Khoảng, cận trên"),
    "distinguishable": ("Distinguishable from base", "Khác biệt rõ so với gốc"),
    "n_seeds": ("Seeds", "Số lần chạy"),
    "seed_min": ("Lowest seed value", "Giá trị thấp nhất"),
    "seed_max": ("Highest seed value", "Giá trị cao nhất"),
    # ledger
    "owed_start": ("Owed at month start (VND)", "Còn nợ đầu tháng (VND)"),
    "suspended_start": ("Suspended at month start (VND)", "Tạm dừng đầu tháng (VND)"),
    "entitled": ("Entitled (VND)", "Được hưởng (VND)"),
    "credited": ("Credited to accounts (VND)", "Chuyển vào tài khoản (VND)"),
    "paid_cash_commune": ("Paid in cash at commune points (VND)", "Tiền mặt tại điểm xã (VND)"),
    "paid_cash_counter": ("Paid in cash at post offices (VND)", "Tiền mặt tại bưu điện (VND)"),
    "paid_home": ("Paid at home (VND)", "Chi trả tại nhà (VND)"),
    "forfeited": ("Forfeited (VND)", "Mất quyền nhận (VND)"),
    "returned": ("Returned credits (VND)", "Chuyển khoản bị trả lại (VND)"),
    "balance_start": ("Account balances at month start (VND)", "Số dư tài khoản đầu tháng (VND)"),
    "withdrawn": ("Withdrawn (VND)", "Đã rút (VND)"),
    "float_delivered": ("Cash delivered to points (VND)", "Tiền mặt cấp cho điểm chi trả (VND)"),
    "float_paid": ("Cash paid out at points (VND)", "Tiền mặt đã chi tại điểm (VND)"),
    "float_returned": ("Cash returned from points (VND)", "Tiền mặt nộp lại từ điểm (VND)"),
    "owed_end": ("Owed at month end (VND)", "Còn nợ cuối tháng (VND)"),
    "suspended_end": ("Suspended at month end (VND)", "Tạm dừng cuối tháng (VND)"),
    "balance_end": ("Account balances at month end (VND)", "Số dư tài khoản cuối tháng (VND)"),
    # funnel
    "chip_ids_issued": ("Chip ID cards issued", "Căn cước gắn chip được cấp"),
    "accounts_opened": ("Accounts opened", "Tài khoản được mở"),
    "applications_failed": ("Applications failed", "Hồ sơ mở tài khoản không thành công"),
    "applications": ("Applications", "Hồ sơ mở tài khoản"),
    "went_dormant": ("Went dormant", "Tài khoản ngừng hoạt động"),
    "reactivated": ("Reactivated", "Hoạt động trở lại"),
    "registered": ("Registered for account payment", "Đăng ký nhận qua tài khoản"),
}


class Lang:
    """Words and number formatting for one language."""

    def __init__(self, lang: str) -> None:
        if lang not in LANGS:
            raise ValueError(lang)
        self.code = lang
        self.vi = lang == "vi"
        self._i = LANGS.index(lang)

    # ------------------------------------------------------------- words
    def t(self, key: str, **fields: object) -> str:
        text = TEXT[key][self._i]
        return text.format(**fields) if fields else text

    def col(self, name: str) -> str:
        pair = COLUMNS.get(name)
        return pair[self._i] if pair else name.replace("_", " ")

    def name(self, prefix: str, value: str) -> str:
        """A translated category name (kind of point, subgroup, channel), or the raw value."""
        pair = TEXT.get(f"{prefix}.{value}")
        return pair[self._i] if pair else str(value).replace("_", " ")

    def period(self, period: str) -> str:
        """YYYY-MM as the reader writes it: 2023-01 in English, 01/2023 in Vietnamese."""
        if self.vi and len(period) == 7 and period[4] == "-":
            return f"{period[5:]}/{period[:4]}"
        return period

    # ------------------------------------------------------------- numbers
    def _group(self, text: str) -> str:
        """Swap separators of an English-formatted number for Vietnamese ones."""
        if not self.vi:
            return text
        return text.replace(",", "\0").replace(".", ",").replace("\0", ".")

    def num(self, value: float | None, decimals: int = 1) -> str:
        if value is None or (isinstance(value, float) and not math.isfinite(value)):
            return "–"
        text = f"{value:,.{decimals}f}"
        if text.startswith("-") and not text.strip("-0.,"):
            text = text[1:]  # -0.00: a tiny negative rounds to zero, and zero has no sign
        return self._group(text)

    def count(self, value: float | None) -> str:
        if value is None or (isinstance(value, float) and not math.isfinite(value)):
            return "–"
        return self._group(f"{round(value):,d}")

    def vnd(self, value: float | None) -> str:
        return "–" if value is None else f"{self.count(value)} VND"

    def vnd_short(self, value: float | None) -> str:
        """Large sums in millions or billions (tỷ) of VND, three significant figures at least;
        sums under ten million in full."""
        if value is None or (isinstance(value, float) and not math.isfinite(value)):
            return "–"
        size = abs(value)
        if size >= 1e9:
            return f"{self.num(value / 1e9, 2)} {self.t('unit.bn_vnd')}"
        if size >= 1e7:
            return f"{self.num(value / 1e6, 1)} {self.t('unit.mn_vnd')}"
        return self.vnd(value)

    def pct(self, share: float | None, decimals: int = 1) -> str:
        if share is None or (isinstance(share, float) and not math.isfinite(share)):
            return "–"
        text = self.num(100 * share, decimals)
        return f"{text} %" if self.vi else f"{text}%"

    def signed(self, text: str, value: float) -> str:
        """+ before a positive difference, unless it rounds to zero."""
        if value > 0 and not text.startswith("-") and text.strip("0.,")[:1].isdigit():
            return "+" + text
        return text

    # ------------------------------------------------------------- spreadsheet formats
    def xl_format(self, kind: str) -> str:
        """Excel number format code for a kind of column; numbers stay numbers."""
        base = {
            "int": "#,##0",
            "vnd": "#,##0",
            "pct": "0.0%" if not self.vi else "0.0 %",
            "dec1": "#,##0.0",
            "dec2": "#,##0.00",
            "dec3": "#,##0.000",
        }[kind]
        # LCID 0x042A = Vietnamese: LibreOffice takes the separators from it; Excel from the system.
        return f"[$-42A]{base}" if self.vi else base


def check_lang(lang: str) -> list[str]:
    """Problems with a --lang value (empty if fine)."""
    if lang in LANGS:
        return []
    return [
        f"--lang {lang}: unknown language; use one of {', '.join(LANGS)} (en = English, vi = "
        f"Vietnamese)"
    ]


def lookup(mapping: Mapping[str, object], *keys: str) -> object:
    """mapping[k1][k2]... or None when any key is missing."""
    node: object = mapping
    for key in keys:
        if not isinstance(node, Mapping) or key not in node:
            return None
        node = node[key]
    return node


# Figures of `welfare-sim compare` (welfare_sim.sim.experiments.compare.FIGURES), by key: (English, Vietnamese).
FIGURES: dict[str, tuple[str, str]] = {
    "account_coverage_last": ("Account coverage, last month", "Tỷ lệ có tài khoản, tháng cuối"),
    "cashless_share_run": (
        "Cashless share of payments, whole run",
        "Tỷ lệ chi trả không dùng tiền mặt, cả kỳ",
    ),
    "cashless_share_last": (
        "Cashless share of payments, last month",
        "Tỷ lệ chi trả không dùng tiền mặt, tháng cuối",
    ),
    "days_to_money_mean": (
        "Days from run start to money in hand, mean",
        "Số ngày đến khi nhận tiền, trung bình",
    ),
    "days_to_money_p95": (
        "Days from run start to money in hand, p95",
        "Số ngày đến khi nhận tiền, phân vị 95",
    ),
    "wait_p95_min": (
        "Queue wait at any point, p95 of visits",
        "Thời gian chờ tại mọi điểm, phân vị 95",
    ),
    "travel_min_per_payment": (
        "Travel time per payment (all trips, both ways)",
        "Thời gian đi lại mỗi lượt chi trả (mọi chuyến, hai chiều)",
    ),
    "unpaid_all": (
        "Unpaid in a month: all beneficiaries",
        "Chưa nhận được tiền: tất cả người hưởng",
    ),
    "unpaid_elderly_60_plus": (
        "Unpaid in a month: aged 60+",
        "Chưa nhận được tiền: người từ 60 tuổi",
    ),
    "unpaid_aged_80_plus": ("Unpaid in a month: aged 80+", "Chưa nhận được tiền: người từ 80 tuổi"),
    "unpaid_disabled": ("Unpaid in a month: disabled", "Chưa nhận được tiền: người khuyết tật"),
    "unpaid_ethnic_minority": (
        "Unpaid in a month: ethnic minority",
        "Chưa nhận được tiền: người dân tộc thiểu số",
    ),
    "unpaid_mountain_communes": (
        "Unpaid in a month: in mountain communes",
        "Chưa nhận được tiền: ở xã miền núi",
    ),
    "state_cost_per_payment_vnd": (
        "Cost per payment to the state",
        "Chi phí mỗi lượt chi trả của Nhà nước",
    ),
    "beneficiary_cost_per_payment_vnd": (
        "Cost per payment to beneficiaries (travel, time, fees)",
        "Chi phí mỗi lượt của người hưởng (đi lại, thời gian, phí)",
    ),
    "strategy_cost_vnd": (
        "Spent on strategies (teams, points, agents, enrolment, waived fees)",
        "Chi cho các phương án (nhóm vận động, điểm, đại lý, đăng ký, miễn phí)",
    ),
    "state_cost_total_vnd": (
        "Total cost to the state, strategies included",
        "Tổng chi phí của Nhà nước, kể cả các phương án",
    ),
    "beneficiary_cost_total_vnd": ("Total cost to beneficiaries", "Tổng chi phí của người hưởng"),
    "total_cost_vnd": (
        "Total cost, state and beneficiaries",
        "Tổng chi phí, Nhà nước và người hưởng",
    ),
}

UNITS_VI = {"days": "ngày", "day": "ngày", "min": "phút", "minutes": "phút", "people": "người"}


# Figures per subgroup (welfare_sim.sim.experiments.compare builds them as PREFIX + subgroup id): the label of the
# whole figure, then the group's name.
GROUP_FIGURES = {"account_coverage_last_": "account_coverage_last", "unpaid_": "unpaid"}
GROUP_FIGURE_PREFIX: dict[str, tuple[str, str]] = {
    "account_coverage_last": ("Account coverage, last month", "Tỷ lệ có tài khoản, tháng cuối"),
    "unpaid": ("Unpaid in a month", "Chưa nhận được tiền"),
}


def figure_label(lang: Lang, key: str, label: str) -> str:
    """A comparison figure's label in the report's language (the given label if unknown)."""
    pair = FIGURES.get(key)
    if pair:
        return pair[1] if lang.vi else pair[0]
    for prefix, whole in GROUP_FIGURES.items():
        group = key[len(prefix) :]
        if key.startswith(prefix) and f"group.{group}" in TEXT:
            head = GROUP_FIGURE_PREFIX[whole][1 if lang.vi else 0]
            return f"{head}: {lang.name('group', group)}"
    label = str(label)
    return label[:1].upper() + label[1:]


def unit_text(lang: Lang, unit: str) -> str:
    """A unit as the reader writes it ('%' for shares stored as fractions)."""
    if unit_kind(unit) == "share":
        return "%"
    return UNITS_VI.get(unit, unit) if lang.vi else unit


def unit_kind(unit: str) -> str:
    """'share' (a fraction shown as %), 'vnd' or 'other', from a figure's unit text."""
    u = (unit or "").strip().lower()
    if (
        u in {"share", "fraction", "proportion", "%", "percent"}
        or u.startswith("share")
        or u.startswith("%")
    ):
        return "share"
    if "vnd" in u:
        return "vnd"
    return "other"


def fmt_value(lang: Lang, value: float | None, unit: str, short: bool = False) -> str:
    """A figure's value with its unit; `short` writes large VND sums in millions or billions."""
    kind = unit_kind(unit)
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return "–"
    if kind == "share":
        return lang.pct(value, 1)
    if kind == "vnd":
        return lang.vnd_short(value) if short else lang.vnd(value)
    decimals = 0 if abs(value) >= 100 else (1 if abs(value) >= 10 else 2)
    return f"{lang.num(value, decimals)} {unit_text(lang, unit)}".strip()


def interval_text(
    lang: Lang, lo: float | None, hi: float | None, unit: str, short: bool = False
) -> str:
    """'+13.6 to +14.0 pp': both bounds, the unit once when they share it."""
    lo_t, hi_t = fmt_diff(lang, lo, unit, short), fmt_diff(lang, hi, unit, short)
    lo_parts, hi_parts = lo_t.split(" ", 1), hi_t.split(" ", 1)
    if len(lo_parts) == 2 and len(hi_parts) == 2 and lo_parts[1] == hi_parts[1]:
        lo_t = lo_parts[0]
    return f"{lo_t} {lang.t('to')} {hi_t}"


def fmt_diff(lang: Lang, value: float | None, unit: str, short: bool = False) -> str:
    """A difference with its sign and unit (percentage points for shares)."""
    kind = unit_kind(unit)
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return "–"
    if kind == "share":
        text = f"{lang.num(100 * value, 1)} {'điểm %' if lang.vi else 'pp'}"
    elif kind == "vnd":
        text = lang.vnd_short(value) if short else lang.vnd(value)
    else:
        decimals = 0 if abs(value) >= 100 else (1 if abs(value) >= 10 else 2)
        text = f"{lang.num(value, decimals)} {unit_text(lang, unit)}".strip()
    return lang.signed(text, value)
