"""The data dictionary: every column any welfare-sim table writes, with its type, unit and meaning.

This module is the one source of `docs/data.md` (`python -m welfare_sim.sim.columns > docs/data.md`)
and of the field descriptions stored in each Parquet file (`parquet_metadata`). A column is known by
its name alone, so one name has one type in every file. The type rule:

* every integer is `Int64` (signed, so `with_account - beneficiaries` never wraps in pandas or
  numpy); money is integer VND and its name ends in `_vnd`; a time's name carries its unit
  (`_min`, `_days`, `day`);
* `period` is a `Date`, the first day of the month; `month` is the 0-based month of the run;
* shares are `Float64` fractions from 0 to 1 (unit "share"), never percentages.

A sweep's result table also has a column per swept scenario key (a dotted path such as
`assumptions.opening.monthly_apply_prob`): those are described by `SWEPT_PARAMETER`.
"""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass
from typing import Any

import polars as pl

from welfare_sim.models.interventions import STRATEGY_COUNTS


@dataclass(frozen=True)
class Column:
    dtype: str  # "Int64", "Float64", "Boolean", "String", "Date" or "Enum"
    unit: str  # "VND", "min", "days", "day of month", "count", "share", "date", "index", "" (none)
    en: str
    vi: str


def _c(dtype: str, unit: str, en: str, vi: str) -> Column:
    return Column(dtype, unit, en, vi)


INT, FLOAT, BOOL, STR, DATE, ENUM = "Int64", "Float64", "Boolean", "String", "Date", "Enum"
VND, N = "VND", "count"

COLUMNS: dict[str, Column] = {
    # ------------------------------------------------------------- keys
    "month": _c(INT, "month", "Month of the run, 0 for the first", "Tháng thứ mấy của kỳ mô phỏng, 0 là tháng đầu"),
    "period": _c(DATE, "date", "Calendar month (its first day)", "Tháng theo lịch (ngày đầu tháng)"),
    "district": _c(
        INT,
        "index",
        "District number, 0-based, in the scenario's order (on a map without districts: the scenario's "
        "areas, then the rest of the province); not an official code",
        "Số thứ tự huyện, bắt đầu từ 0, theo thứ tự trong kịch bản (bản đồ không có huyện: các vùng do "
        "kịch bản đặt tên, rồi phần còn lại của tỉnh); không phải mã hành chính",
    ),
    "district_name": _c(
        STR,
        "",
        "District name, as the scenario writes it (or the area's name)",
        "Tên huyện, như trong kịch bản (hoặc tên vùng)",
    ),
    "district_code": _c(
        STR,
        "",
        "Official district code from the legacy register (empty for an area or without a register)",
        "Mã huyện chính thức theo danh mục cũ (để trống với vùng hoặc khi không dùng danh mục)",
    ),
    "province_code": _c(
        STR,
        "",
        "Official province code (legacy register), in a many-province run: the province the row is of",
        "Mã tỉnh chính thức (danh mục cũ), trong lượt chạy nhiều tỉnh: tỉnh của dòng số liệu",
    ),
    "province_name": _c(
        STR,
        "",
        "Province name from the legacy register, in a many-province run",
        "Tên tỉnh theo danh mục cũ, trong lượt chạy nhiều tỉnh",
    ),
    "commune": _c(
        INT,
        "index",
        "Commune number, 0-based across the province, district by district (not an official code)",
        "Số thứ tự xã, bắt đầu từ 0 trong toàn tỉnh, lần lượt theo huyện (không phải mã hành chính)",
    ),
    "commune_in_district": _c(
        INT,
        "index",
        "Commune number within its district, 1-based",
        "Số thứ tự xã trong huyện, bắt đầu từ 1",
    ),
    "commune_name": _c(
        STR,
        "",
        "Commune name from the register (without one: empty, and '<district> commune N' in places.parquet)",
        "Tên xã theo danh mục hành chính (nếu không dùng danh mục: để trống, "
        "và '<huyện> commune N' trong places.parquet)",
    ),
    "commune_code": _c(
        STR,
        "",
        "Official commune code from the register (empty without a register)",
        "Mã xã chính thức theo danh mục hành chính (để trống khi không dùng danh mục)",
    ),
    "commune_type": _c(
        STR,
        "",
        "Kind of commune-level unit: Phường (ward), Xã (commune), Thị trấn (township), Đặc khu",
        "Loại đơn vị hành chính cấp xã: Phường, Xã, Thị trấn, Đặc khu",
    ),
    "latitude": _c(
        FLOAT,
        "degrees",
        "Latitude: of the commune's centre (register), or of the payment point (points table)",
        "Vĩ độ: trung tâm xã (danh mục), hoặc vị trí điểm chi trả (bảng điểm chi trả)",
    ),
    "longitude": _c(
        FLOAT,
        "degrees",
        "Longitude: of the commune's centre (register), or of the payment point (points table)",
        "Kinh độ: trung tâm xã (danh mục), hoặc vị trí điểm chi trả (bảng điểm chi trả)",
    ),
    "area_km2": _c(
        FLOAT, "km²", "Area of the commune (2025 register; empty on the legacy map)", "Diện tích xã (danh mục 2025)"
    ),
    "beneficiary_id": _c(INT, "index", "Beneficiary's stable id", "Mã định danh cố định của người hưởng"),
    "pseudonym": _c(
        STR, "",
        "A roster person's keyed pseudonym (HMAC-SHA256 of the ID number under the user's key, 16 hex digits); "
        "empty for new approvals the model draws",
        "Bí danh có khóa của người trong danh sách (HMAC-SHA256 của số định danh theo khóa của người dùng)",
    ),
    "point": _c(INT, "index", "Payment point's stable id", "Mã định danh cố định của điểm chi trả"),
    "category": _c(ENUM, "", "Category of benefit", "Đối tượng hưởng"),
    "terrain": _c(ENUM, "", "Terrain of the commune", "Địa hình của xã"),
    "age_group": _c(ENUM, "", "Age group", "Nhóm tuổi"),
    "disabled": _c(BOOL, "", "Has a disability", "Là người khuyết tật"),
    "ethnic_minority": _c(BOOL, "", "Belongs to an ethnic minority", "Là người dân tộc thiểu số"),
    "subgroup": _c(STR, "", "Group of beneficiaries (all, aged 60+, aged 80+, ...)", "Nhóm người hưởng"),
    "kind": _c(ENUM, "", "Kind of payment point", "Loại điểm chi trả"),
    "day": _c(INT, "day of month", "Day of the month (1 = first)", "Ngày trong tháng (1 = ngày đầu)"),
    # ------------------------------------------------------------- payments (one row per beneficiary-month)
    "channel": _c(ENUM, "", "How the month's money was paid", "Hình thức chi trả trong tháng"),
    "status": _c(ENUM, "", "Outcome of the month's payment", "Kết quả chi trả trong tháng"),
    "due_vnd": _c(INT, VND, "Due this month, arrears included", "Phải trả trong tháng, kể cả tiền nợ các tháng trước"),
    "day_in_hand": _c(
        INT,
        "day of month",
        "Day of the month the money came to hand (empty if it did not)",
        "Ngày trong tháng nhận được tiền (để trống nếu chưa nhận)",
    ),
    "days_to_money": _c(
        INT,
        "days",
        "Days from the start of the payment run to money in hand (empty if none)",
        "Số ngày từ đầu kỳ chi trả đến khi nhận tiền (để trống nếu chưa nhận)",
    ),
    "travel_min": _c(FLOAT, "min", "Travel time, all trips, both ways", "Thời gian đi lại, mọi chuyến, cả hai chiều"),
    "wait_min": _c(FLOAT, "min", "Time spent waiting in queues", "Thời gian xếp hàng chờ"),
    "withdrawals": _c(INT, N, "Cash withdrawals from the account", "Số lần rút tiền mặt từ tài khoản"),
    "atm_failures": _c(
        INT,
        N,
        "Cash-out visits that failed (card, PIN, literacy)",
        "Số lượt rút tiền thất bại (thẻ, mã PIN, không đọc được)",
    ),
    "account_status": _c(ENUM, "", "Account status at month end", "Tình trạng tài khoản cuối tháng"),
    "account_type": _c(ENUM, "", "Type of account", "Loại tài khoản"),
    "registered": _c(
        BOOL,
        "",
        "Registered for payment into the account",
        "Đã đăng ký nhận trợ cấp qua tài khoản",
    ),
    "balance_vnd": _c(INT, VND, "Account balance at month end", "Số dư tài khoản cuối tháng"),
    "drive_reached": _c(
        BOOL,
        "",
        "Reached by an account-opening drive this month",
        "Được đợt vận động mở tài khoản tiếp cận trong tháng",
    ),
    "fee_vnd": _c(
        INT,
        VND,
        "Cash-out fees charged to the beneficiary (the point's fee; none when waived)",
        "Phí rút tiền thực thu của người hưởng (phí của điểm; không thu khi được miễn)",
    ),
    "state_fee_vnd": _c(
        INT,
        VND,
        "Payment fees paid by the state (per cash payment only in the fee cost model)",
        "Phí chi trả Nhà nước trả (phí mỗi lượt chi tiền mặt chỉ tính theo mô hình phí)",
    ),
    "failed_credit_cause": _c(
        ENUM,
        "",
        "Why the credit failed: data_mismatch, dormant_account, other; none if it did not",
        "Lý do chuyển khoản bị trả lại: sai lệch dữ liệu, tài khoản ngừng hoạt động, khác; none nếu không bị trả lại",
    ),
    # ------------------------------------------------------------- monthly (month × commune × category)
    "beneficiaries": _c(INT, N, "Beneficiaries in the month", "Số người hưởng trong tháng"),
    "with_account": _c(
        INT,
        N,
        "Beneficiaries with an open or dormant account",
        "Số người có tài khoản (đang hoạt động hoặc ngừng hoạt động)",
    ),
    "without_account": _c(INT, N, "Beneficiaries without an account", "Số người chưa có tài khoản"),
    "on_account_list": _c(
        INT, N, "Registered for payment into an account", "Số người trong danh sách chi trả qua tài khoản"
    ),
    "paid_into_account": _c(INT, N, "Payments into an account", "Số lượt chi trả qua tài khoản"),
    "paid_in_cash": _c(
        INT, N, "Payments in cash (commune point or post office)", "Số lượt chi trả tiền mặt (điểm xã hoặc bưu điện)"
    ),
    "paid_at_commune_point": _c(
        INT, N, "Cash payments at the commune point", "Số lượt nhận tiền mặt tại điểm chi trả xã"
    ),
    "paid_at_post_office": _c(INT, N, "Cash payments at the post office", "Số lượt nhận tiền mặt tại bưu điện"),
    "paid_at_home": _c(INT, N, "Payments delivered at home", "Số lượt chi trả tại nhà"),
    "home_unreached": _c(
        INT,
        N,
        "Home recipients the couriers did not reach this month (still owed)",
        "Số người nhận tại nhà chưa được nhân viên bưu điện đến trong tháng (vẫn còn nợ)",
    ),
    "paid_partly": _c(INT, N, "Payments made only in part", "Số lượt chỉ được chi trả một phần"),
    "unpaid": _c(INT, N, "Beneficiaries not paid this month", "Số người chưa nhận được tiền trong tháng"),
    "held": _c(INT, N, "Payments held for a record mismatch", "Số lượt bị tạm giữ do sai lệch hồ sơ"),
    "failed_credits": _c(INT, N, "Credits to an account that were returned", "Số lượt chuyển khoản bị trả lại"),
    "failed_credits_mismatch": _c(
        INT, N, "Returned credits: account data did not match", "Chuyển khoản bị trả lại do sai lệch dữ liệu tài khoản"
    ),
    "failed_credits_dormant": _c(
        INT, N, "Returned credits: the account was dormant", "Chuyển khoản bị trả lại do tài khoản ngừng hoạt động"
    ),
    "failed_credits_other": _c(INT, N, "Returned credits: other causes", "Chuyển khoản bị trả lại do lý do khác"),
    "uncollected": _c(INT, N, "Cash payments not collected", "Số lượt không đến nhận tiền mặt"),
    "suspended": _c(INT, N, "Beneficiaries suspended", "Số người bị tạm dừng chi trả"),
    "reached_by_drive": _c(
        INT, N, "Beneficiaries reached by an account-opening drive", "Số người được đợt vận động mở tài khoản tiếp cận"
    ),
    "entitled_vnd": _c(INT, VND, "Entitlement of the month", "Số tiền được hưởng trong tháng"),
    "paid_vnd": _c(INT, VND, "Money paid", "Số tiền đã chi trả"),
    "paid_into_account_vnd": _c(INT, VND, "Money paid into accounts", "Số tiền chi trả qua tài khoản"),
    "paid_in_cash_vnd": _c(INT, VND, "Money paid in cash", "Số tiền chi trả bằng tiền mặt"),
    "paid_at_home_vnd": _c(INT, VND, "Money paid at home", "Số tiền chi trả tại nhà"),
    "failed_credit_vnd": _c(INT, VND, "Money of returned credits", "Số tiền chuyển khoản bị trả lại"),
    "owed_end_vnd": _c(INT, VND, "Owed to beneficiaries at month end", "Số tiền còn nợ người hưởng cuối tháng"),
    "withdrawn_vnd": _c(INT, VND, "Withdrawn from accounts", "Số tiền rút từ tài khoản"),
    "trips": _c(INT, N, "Trips to a payment point", "Số chuyến đi đến điểm chi trả"),
    "failed_atm_visits": _c(
        INT,
        N,
        "Cash-out visits that failed at the machine (card, PIN, literacy)",
        "Số lượt rút tiền thất bại tại máy (thẻ, mã PIN, không đọc được)",
    ),
    "home_cashouts": _c(
        INT, N, "Withdrawals brought home by the home cash-out service", "Số lượt rút tiền được mang đến tận nhà"
    ),
    "days_to_money_mean": _c(
        FLOAT,
        "days",
        "Days from the run start to money in hand, mean of those paid",
        "Số ngày từ đầu kỳ chi trả đến khi nhận tiền, trung bình của người đã nhận",
    ),
    "money_in_hand": _c(
        INT,
        N,
        "Beneficiary-months whose money came to hand (what days_to_money_total sums over)",
        "Số lượt người hưởng-tháng đã nhận được tiền (số lượt mà days_to_money_total cộng dồn)",
    ),
    "days_to_money_total": _c(
        INT,
        "days",
        "Days from the run start to money in hand, summed over those paid (÷ money_in_hand: the mean)",
        "Tổng số ngày từ đầu kỳ chi trả đến khi nhận tiền của những người đã nhận (chia cho money_in_hand: "
        "trung bình)",
    ),
    "wait_min_total": _c(FLOAT, "min", "Time spent waiting in queues, total", "Tổng thời gian xếp hàng chờ"),
    "travel_min_total": _c(FLOAT, "min", "Travel time, total", "Tổng thời gian đi lại"),
    "travel_cost_vnd": _c(INT, VND, "Beneficiaries' travel cost", "Chi phí đi lại của người hưởng"),
    "time_cost_vnd": _c(INT, VND, "Beneficiaries' time, valued", "Chi phí thời gian của người hưởng (quy ra tiền)"),
    "beneficiary_fees_vnd": _c(INT, VND, "Fees paid by beneficiaries", "Phí người hưởng trả"),
    "state_fees_vnd": _c(INT, VND, "Payment fees paid by the state", "Phí chi trả Nhà nước trả"),
    # ------------------------------------------------------------- points and waits
    "open_days": _c(INT, "days", "Days the point was open", "Số ngày điểm mở cửa"),
    "down_days": _c(INT, "days", "Days the point was down", "Số ngày điểm gián đoạn"),
    "visits": _c(INT, N, "Visits to the point", "Số lượt đến điểm"),
    "served": _c(INT, N, "Visits that were paid in full or in part", "Số lượt được chi trả (toàn bộ hoặc một phần)"),
    "float_vnd": _c(
        INT,
        VND,
        "New cash delivered to the point (cash kept overnight in a post office's safe counts once)",
        "Tiền mặt mới cấp cho điểm (tiền giữ qua đêm trong két bưu điện chỉ tính một lần)",
    ),
    "wait_min_mean": _c(FLOAT, "min", "Queue wait, mean of visits", "Thời gian chờ, trung bình các lượt"),
    "wait_min_p50": _c(FLOAT, "min", "Queue wait, median of visits", "Thời gian chờ, trung vị các lượt"),
    "wait_min_p95": _c(FLOAT, "min", "Queue wait, 95th percentile of visits", "Thời gian chờ, phân vị 95 các lượt"),
    "staff_cost_vnd": _c(
        INT,
        VND,
        "Staff cost of the point, bottom-up cost model only (a team-day split over its communes)",
        "Chi phí nhân sự của điểm, chỉ theo mô hình chi phí chi tiết (ngày công tổ chia cho các xã)",
    ),
    "cash_transport_cost_vnd": _c(
        INT,
        VND,
        "Cash transport cost of the point, bottom-up cost model only (escorted runs, office deliveries)",
        "Chi phí vận chuyển tiền mặt của điểm, chỉ theo mô hình chi phí chi tiết",
    ),
    "turned_away_no_cash": _c(
        INT, N, "Visits turned away: the point had no cash", "Số lượt phải về: điểm hết tiền mặt"
    ),
    "not_reached": _c(INT, N, "Visits not served before closing", "Số lượt chưa được phục vụ khi đóng cửa"),
    "found_closed": _c(INT, N, "Visits that found the point closed", "Số lượt đến khi điểm đóng cửa"),
    "failed_visits": _c(
        INT,
        N,
        "Visits that failed at the machine (card, PIN, literacy); never paid",
        "Số lượt thất bại tại máy (thẻ, mã PIN, không đọc được); không được chi trả",
    ),
    # ------------------------------------------------------------- ledger (one row per month; conserved to the dong)
    "owed_start_vnd": _c(INT, VND, "Owed to beneficiaries at month start", "Số tiền còn nợ người hưởng đầu tháng"),
    "suspended_start_vnd": _c(
        INT, VND, "Owed to suspended beneficiaries at month start", "Số tiền của người bị tạm dừng, đầu tháng"
    ),
    "credited_vnd": _c(INT, VND, "Credited to accounts", "Số tiền chuyển vào tài khoản"),
    "paid_cash_commune_vnd": _c(INT, VND, "Paid in cash at commune points", "Số tiền mặt chi tại điểm xã"),
    "paid_cash_counter_vnd": _c(INT, VND, "Paid in cash at post offices", "Số tiền mặt chi tại bưu điện"),
    "paid_home_vnd": _c(INT, VND, "Paid at home", "Số tiền chi trả tại nhà"),
    "forfeited_vnd": _c(
        INT, VND, "Forfeited (stopped beneficiaries)", "Số tiền bị mất quyền nhận (người bị thôi chi trả)"
    ),
    "returned_vnd": _c(INT, VND, "Credits returned by the bank", "Số tiền chuyển khoản bị ngân hàng trả lại"),
    "held_vnd": _c(INT, VND, "Held for a record mismatch", "Số tiền bị tạm giữ do sai lệch hồ sơ"),
    "balance_start_vnd": _c(INT, VND, "Account balances at month start", "Số dư tài khoản đầu tháng"),
    "float_delivered_vnd": _c(INT, VND, "Cash delivered to points", "Tiền mặt cấp cho các điểm chi trả"),
    "float_paid_vnd": _c(INT, VND, "Cash paid out at points", "Tiền mặt đã chi tại các điểm"),
    "float_paid_others_vnd": _c(
        INT, VND, "Cash other customers took from the points (ATMs)", "Tiền mặt khách hàng khác rút tại các điểm (ATM)"
    ),
    "float_returned_vnd": _c(INT, VND, "Cash returned from points", "Tiền mặt nộp lại từ các điểm"),
    "suspended_end_vnd": _c(
        INT, VND, "Owed to suspended beneficiaries at month end", "Số tiền của người bị tạm dừng, cuối tháng"
    ),
    "balance_end_vnd": _c(INT, VND, "Account balances at month end", "Số dư tài khoản cuối tháng"),
    "paid_after_death_vnd": _c(
        INT,
        VND,
        "Paid to people who had died, before the death was detected",
        "Số tiền chi trả cho người đã mất, trước khi phát hiện",
    ),
    "recovered_vnd": _c(
        INT,
        VND,
        "Paid after death and recovered from the account balance",
        "Số tiền chi sau khi mất, thu hồi từ tài khoản",
    ),
    "written_off_vnd": _c(
        INT, VND, "Paid after death and not recoverable (written off)", "Số tiền chi sau khi mất, không thu hồi được"
    ),
    "after_death_start_vnd": _c(
        INT,
        VND,
        "Paid after death, not yet detected, at month start",
        "Số tiền chi sau khi mất chưa phát hiện, đầu tháng",
    ),
    "after_death_end_vnd": _c(
        INT,
        VND,
        "Paid after death, not yet detected, at month end",
        "Số tiền chi sau khi mất chưa phát hiện, cuối tháng",
    ),
    # ------------------------------------------------------------- funnel (one row per month)
    "chip_ids_issued": _c(INT, N, "Chip ID cards issued", "Số căn cước gắn chip được cấp"),
    "accounts_opened": _c(INT, N, "Accounts opened", "Số tài khoản được mở"),
    "applications_failed": _c(INT, N, "Account applications that failed", "Số hồ sơ mở tài khoản không thành công"),
    "applications": _c(INT, N, "Account applications made", "Số hồ sơ mở tài khoản"),
    "went_dormant": _c(INT, N, "Accounts that went dormant", "Số tài khoản ngừng hoạt động"),
    "reactivated": _c(INT, N, "Dormant accounts used again", "Số tài khoản hoạt động trở lại"),
    "registrations": _c(
        INT, N, "New registrations for payment into an account", "Số đăng ký mới nhận trợ cấp qua tài khoản"
    ),
    "entries": _c(INT, N, "New beneficiaries approved and added to the list", "Số người hưởng mới được phê duyệt"),
    "deaths": _c(INT, N, "Beneficiaries who died", "Số người hưởng qua đời"),
    "deaths_detected": _c(
        INT,
        N,
        "Deaths the population database showed, taken off the list",
        "Số người mất được phát hiện, đưa khỏi danh sách",
    ),
    "reapplications": _c(INT, N, "Stopped beneficiaries who re-applied", "Số người bị thôi chi trả nộp hồ sơ lại"),
    "records_changed": _c(
        INT,
        N,
        "Records changed and no longer matched in the population database",
        "Số hồ sơ thay đổi, không còn khớp cơ sở dữ liệu dân cư",
    ),
    # ------------------------------------------------------------- comparison folder
    "scenario": _c(STR, "", "Scenario (strategy) name", "Tên kịch bản (phương án)"),
    "seed": _c(INT, "", "Seed of the run's random streams", "Giá trị khởi tạo ngẫu nhiên (seed) của lần chạy"),
    "figure": _c(STR, "", "Figure's key", "Mã chỉ số"),
    "label": _c(STR, "", "Figure's label, in English", "Tên chỉ số, bằng tiếng Anh"),
    "unit": _c(
        STR,
        "",
        "Unit of the figure's values: share (0 to 1), days, min or VND",
        "Đơn vị của chỉ số: share (tỷ lệ 0 đến 1), days, min hoặc VND",
    ),
    "mean": _c(
        FLOAT,
        "(figure's unit)",
        "Mean of the figure (over seeds in a comparison, across points in a sensitivity table)",
        "Giá trị trung bình của chỉ số (qua các lần chạy khi so sánh, qua các điểm khi phân tích độ nhạy)",
    ),
    "diff_mean": _c(
        FLOAT,
        "(figure's unit)",
        "Paired difference from the base, mean over seeds",
        "Chênh lệch so với phương án gốc, trung bình theo cặp",
    ),
    "diff_lo": _c(
        FLOAT,
        "(figure's unit)",
        "95 % t-interval of the difference, low end",
        "Khoảng tin cậy 95 % của chênh lệch, cận dưới",
    ),
    "diff_hi": _c(
        FLOAT,
        "(figure's unit)",
        "95 % t-interval of the difference, high end",
        "Khoảng tin cậy 95 % của chênh lệch, cận trên",
    ),
    "distinguishable": _c(BOOL, "", "The interval excludes zero", "Khoảng tin cậy không chứa 0"),
    "n_seeds": _c(INT, N, "Seeds (runs) per scenario", "Số lần chạy của mỗi kịch bản"),
    # ------------------------------------------------------------- what a strategy buys (compare)
    "account_holders_last": _c(
        INT,
        N,
        "Beneficiaries with an account, last month",
        "Số đối tượng có tài khoản, tháng cuối",
    ),
    "beneficiaries_last": _c(
        INT,
        N,
        "Beneficiaries, last month",
        "Số đối tượng, tháng cuối",
    ),
    "unpaid_payments": _c(
        INT,
        N,
        "Beneficiary-months left unpaid over the run",
        "Số lượt đối tượng-tháng không được chi trả trong kỳ",
    ),
    "beneficiary_hours": _c(
        FLOAT,
        "hours",
        "Beneficiaries' hours of travel and queueing over the run",
        "Tổng số giờ đi lại và xếp hàng của đối tượng trong kỳ",
    ),
    "state_cost_vnd": _c(
        INT,
        VND,
        "Cost to the state over the run, strategies included",
        "Chi phí của Nhà nước trong kỳ, kể cả chi phí giải pháp",
    ),
    "beneficiary_cost_vnd": _c(
        INT,
        VND,
        "Cost to beneficiaries over the row's period (a commune's month, or the run): travel, time (valued), fees",
        "Chi phí của người hưởng trong kỳ của dòng (tháng của xã, hoặc cả kỳ): đi lại, thời gian (quy ra tiền), phí",
    ),
    "measure": _c(
        STR,
        "",
        "Cost-effectiveness measure (cost_per_account_holder, ...)",
        "Chỉ số chi phí - hiệu quả (cost_per_account_holder, ...)",
    ),
    "effect_unit": _c(
        STR,
        "",
        "What the gain counts",
        "Đơn vị của lợi ích",
    ),
    "gain_mean": _c(
        FLOAT,
        "(as effect_unit)",
        "Gain against the base, mean of the paired differences (more is better)",
        "Lợi ích so với phương án gốc, trung bình chênh lệch theo cặp (càng lớn càng tốt)",
    ),
    "gain_lo": _c(
        FLOAT,
        "(as effect_unit)",
        "Gain: low end of its 95 % t-interval",
        "Lợi ích: cận dưới khoảng tin cậy 95 %",
    ),
    "gain_hi": _c(
        FLOAT,
        "(as effect_unit)",
        "Gain: high end of its 95 % t-interval",
        "Lợi ích: cận trên khoảng tin cậy 95 %",
    ),
    "state_cost_mean_vnd": _c(
        FLOAT,
        VND,
        "Extra cost to the state over the run, mean of the paired differences",
        "Chi phí tăng thêm của Nhà nước trong kỳ, trung bình chênh lệch theo cặp",
    ),
    "state_cost_lo_vnd": _c(
        FLOAT,
        VND,
        "Extra state cost: low end of its 95 % t-interval",
        "Chi phí tăng thêm của Nhà nước: cận dưới khoảng tin cậy 95 %",
    ),
    "state_cost_hi_vnd": _c(
        FLOAT,
        VND,
        "Extra state cost: high end of its 95 % t-interval",
        "Chi phí tăng thêm của Nhà nước: cận trên khoảng tin cậy 95 %",
    ),
    "ratio_vnd": _c(
        FLOAT,
        VND,
        "Extra state cost per unit of gain (none without a gain)",
        "Chi phí tăng thêm của Nhà nước trên một đơn vị lợi ích (trống nếu không có lợi ích)",
    ),
    "ratio_lo_vnd": _c(
        FLOAT,
        VND,
        "Cost per unit of gain: low end of Fieller's 95 % interval (none if unbounded)",
        "Chi phí trên một đơn vị lợi ích: cận dưới khoảng Fieller 95 % (trống nếu không bị chặn)",
    ),
    "ratio_hi_vnd": _c(
        FLOAT,
        VND,
        "Cost per unit of gain: high end of Fieller's 95 % interval (none if unbounded)",
        "Chi phí trên một đơn vị lợi ích: cận trên khoảng Fieller 95 % (trống nếu không bị chặn)",
    ),
    "beneficiary_cost_mean_vnd": _c(
        FLOAT,
        VND,
        "Change in the beneficiaries' own cost, mean of the paired differences",
        "Thay đổi chi phí của đối tượng, trung bình chênh lệch theo cặp",
    ),
    "beneficiary_cost_lo_vnd": _c(
        FLOAT,
        VND,
        "Beneficiaries' cost change: low end of its 95 % t-interval",
        "Thay đổi chi phí của đối tượng: cận dưới khoảng tin cậy 95 %",
    ),
    "beneficiary_cost_hi_vnd": _c(
        FLOAT,
        VND,
        "Beneficiaries' cost change: high end of its 95 % t-interval",
        "Thay đổi chi phí của đối tượng: cận trên khoảng tin cậy 95 %",
    ),
    "verdict": _c(
        STR,
        "",
        "dominant (gains, saves money), gains, uncertain (gain not told from 0) or no_gain",
        "dominant (có lợi, tiết kiệm), gains (có lợi), uncertain (chưa phân biệt với 0) hoặc no_gain",
    ),
    "group_level": _c(
        STR,
        "",
        "Kind of group: district, commune, subgroup or programme",
        "Loại nhóm: huyện, xã, nhóm đối tượng hoặc chế độ",
    ),
    "group": _c(
        STR,
        "",
        "The group's key (district or commune index, subgroup or programme name)",
        "Khóa của nhóm (số thứ tự huyện hoặc xã, tên nhóm đối tượng hoặc chế độ)",
    ),
    "group_name": _c(
        STR,
        "",
        "The group's name",
        "Tên nhóm",
    ),
    "group_code": _c(
        STR,
        "",
        "Official code of the district or commune, where the scenario gives it",
        "Mã hành chính của huyện hoặc xã, nếu kịch bản có",
    ),
    "effect_mean": _c(
        FLOAT,
        "(as where.json effect)",
        "A commune's effect (where.json names it), mean of the paired differences over seeds",
        "Hiệu quả tại xã (where.json ghi rõ loại), trung bình chênh lệch theo cặp qua các lần chạy",
    ),
    "effect_lo": _c(
        FLOAT,
        "(as where.json effect)",
        "A commune's effect: low end of its 95 % t-interval",
        "Hiệu quả tại xã: cận dưới khoảng tin cậy 95 %",
    ),
    "effect_hi": _c(
        FLOAT,
        "(as where.json effect)",
        "A commune's effect: high end of its 95 % t-interval",
        "Hiệu quả tại xã: cận trên khoảng tin cậy 95 %",
    ),
    "cost_vnd": _c(
        INT,
        VND,
        "What the intervention costs the state in the commune over the run",
        "Chi phí của Nhà nước cho giải pháp tại xã trong kỳ",
    ),
    "separates": _c(
        BOOL,
        "",
        "The seeds tell the commune's effect from zero (its 95 % interval lies above 0); false: its place in "
        "the list is not sure, run more seeds",
        "Các lần chạy phân biệt được hiệu quả tại xã với 0 (khoảng tin cậy 95 % nằm trên 0); sai: thứ hạng "
        "của xã chưa chắc chắn, cần chạy thêm",
    ),
    "effect_per_million_dong": _c(
        FLOAT,
        "per million VND",
        "The commune's effect per million VND of cost",
        "Hiệu quả tại xã trên một triệu đồng chi phí",
    ),
    "beneficiaries_mean": _c(
        FLOAT,
        N,
        "Beneficiaries in the last month, mean over seeds",
        "Số đối tượng tháng cuối, trung bình qua các lần chạy",
    ),
    "rank": _c(
        INT,
        "index",
        "Rank, 1 for the best",
        "Thứ hạng, 1 là tốt nhất",
    ),
    "coverage_change": _c(
        FLOAT,
        "share",
        "Change in account coverage, last month (mean of the paired differences)",
        "Thay đổi tỷ lệ có tài khoản, tháng cuối (trung bình chênh lệch theo cặp)",
    ),
    "coverage_lo": _c(
        FLOAT,
        "share",
        "Change in account coverage, last month: low end of its 95 % t-interval",
        "Thay đổi tỷ lệ có tài khoản, tháng cuối: cận dưới khoảng tin cậy 95 %",
    ),
    "coverage_hi": _c(
        FLOAT,
        "share",
        "Change in account coverage, last month: high end of its 95 % t-interval",
        "Thay đổi tỷ lệ có tài khoản, tháng cuối: cận trên khoảng tin cậy 95 %",
    ),
    "unpaid_share_change": _c(
        FLOAT,
        "share",
        "Change in the unpaid share of beneficiary-months (mean of the paired differences)",
        "Thay đổi tỷ lệ lượt không được chi trả (trung bình chênh lệch theo cặp)",
    ),
    "unpaid_share_lo": _c(
        FLOAT,
        "share",
        "Change in the unpaid share of beneficiary-months: low end of its 95 % t-interval",
        "Thay đổi tỷ lệ lượt không được chi trả: cận dưới khoảng tin cậy 95 %",
    ),
    "unpaid_share_hi": _c(
        FLOAT,
        "share",
        "Change in the unpaid share of beneficiary-months: high end of its 95 % t-interval",
        "Thay đổi tỷ lệ lượt không được chi trả: cận trên khoảng tin cậy 95 %",
    ),
    "days_to_money_change": _c(
        FLOAT,
        "days",
        "Change in days to money, mean (mean of the paired differences)",
        "Thay đổi số ngày đến khi nhận tiền, trung bình (trung bình chênh lệch theo cặp)",
    ),
    "days_to_money_lo": _c(
        FLOAT,
        "days",
        "Change in days to money, mean: low end of its 95 % t-interval",
        "Thay đổi số ngày đến khi nhận tiền, trung bình: cận dưới khoảng tin cậy 95 %",
    ),
    "days_to_money_hi": _c(
        FLOAT,
        "days",
        "Change in days to money, mean: high end of its 95 % t-interval",
        "Thay đổi số ngày đến khi nhận tiền, trung bình: cận trên khoảng tin cậy 95 %",
    ),
    "hours_per_month_change": _c(
        FLOAT,
        "hours",
        "Change in hours of travel and queueing per beneficiary-month (mean of the paired differences)",
        "Thay đổi số giờ đi lại và xếp hàng mỗi đối tượng-tháng (trung bình chênh lệch theo cặp)",
    ),
    "hours_per_month_lo": _c(
        FLOAT,
        "hours",
        "Change in hours of travel and queueing per beneficiary-month: low end of its 95 % t-interval",
        "Thay đổi số giờ đi lại và xếp hàng mỗi đối tượng-tháng: cận dưới khoảng tin cậy 95 %",
    ),
    "hours_per_month_hi": _c(
        FLOAT,
        "hours",
        "Change in hours of travel and queueing per beneficiary-month: high end of its 95 % t-interval",
        "Thay đổi số giờ đi lại và xếp hàng mỗi đối tượng-tháng: cận trên khoảng tin cậy 95 %",
    ),
    "beneficiary_cost_change_vnd": _c(
        FLOAT,
        VND,
        "Change in the beneficiaries' cost over the run (mean of the paired differences)",
        "Thay đổi chi phí của đối tượng trong kỳ (trung bình chênh lệch theo cặp)",
    ),
    "account_coverage": _c(FLOAT, "share", "Share of beneficiaries with an account", "Tỷ lệ người hưởng có tài khoản"),
    "paid_cash_or_home": _c(INT, N, "Payments in cash or at home", "Số lượt chi trả tiền mặt hoặc tại nhà"),
    "cashless_share": _c(FLOAT, "share", "Share of payments made into accounts", "Tỷ lệ lượt chi trả qua tài khoản"),
    # ------------------------------------------------------------- communes (month × commune)
    "payments": _c(
        INT,
        N,
        "Payments made: into an account, in cash or at home",
        "Số lượt chi trả: qua tài khoản, bằng tiền mặt hoặc tại nhà",
    ),
    "paid_into_account_share": _c(
        FLOAT,
        "share",
        "Share of beneficiaries paid into an account this month",
        "Tỷ lệ người hưởng được chi trả qua tài khoản trong tháng",
    ),
    "unpaid_share": _c(
        FLOAT,
        "share",
        "Share of beneficiaries not paid this month",
        "Tỷ lệ người hưởng chưa nhận được tiền trong tháng",
    ),
    "commune_point_wait_min_p50": _c(
        FLOAT,
        "min",
        "Queue wait of those paid at the commune point (all their trips), median",
        "Thời gian chờ của người nhận tiền tại điểm chi trả xã (mọi chuyến), trung vị",
    ),
    "commune_point_wait_min_p95": _c(
        FLOAT,
        "min",
        "Queue wait of those paid at the commune point (all their trips), 95th percentile",
        "Thời gian chờ của người nhận tiền tại điểm chi trả xã (mọi chuyến), phân vị 95",
    ),
    "legacy_communes": _c(
        INT,
        N,
        "Communes of the map before 2025-07 merged into this 2025 commune (remap)",
        "Số xã theo địa giới trước 07/2025 được gộp vào xã mới này (chuyển đổi)",
    ),
    # ------------------------------------------------------------- sweep (its other columns are dotted paths)
    "months": _c(INT, "months", "Months simulated", "Số tháng mô phỏng"),
    # ------------------------------------------------------------- sensitivity
    "parameter": _c(STR, "", "Swept scenario key", "Khóa kịch bản được thay đổi"),
    "S1": _c(FLOAT, "", "Sobol' first-order index", "Chỉ số Sobol' bậc một"),
    "S1_conf": _c(FLOAT, "", "Half-width of the 95 % interval of S1", "Nửa độ rộng khoảng tin cậy 95 % của S1"),
    "ST": _c(FLOAT, "", "Sobol' total-order index", "Chỉ số Sobol' toàn phần"),
    "ST_conf": _c(FLOAT, "", "Half-width of the 95 % interval of ST", "Nửa độ rộng khoảng tin cậy 95 % của ST"),
    "std": _c(
        FLOAT,
        "(figure's unit)",
        "Standard deviation of the figure across points",
        "Độ lệch chuẩn của chỉ số giữa các điểm",
    ),
}

_STRATEGY_TEXT = {
    "drive_team_months": ("Account-drive team-months worked", "Số tháng-nhóm của các đợt vận động mở tài khoản"),
    "drives_vnd": ("Cost of account drives", "Chi phí các đợt vận động mở tài khoản"),
    "atm_points_open": ("Commune ATMs open (point-months)", "Số ATM tại xã hoạt động (điểm-tháng)"),
    "atm_points_vnd": ("Cost of commune ATMs", "Chi phí ATM tại xã"),
    "agents_open": ("Cash-out agents open (agent-months)", "Số đại lý chi trả hoạt động (đại lý-tháng)"),
    "agents_vnd": ("Cost of cash-out agents", "Chi phí đại lý chi trả"),
    "chip_id_enrolled": ("Chip ID cards issued by the strategy", "Số căn cước gắn chip do phương án cấp"),
    "chip_id_linked": ("Accounts linked to chip ID", "Số tài khoản liên kết căn cước gắn chip"),
    "chip_id_vnd": ("Cost of chip ID enrolment", "Chi phí cấp căn cước gắn chip"),
    "home_delivery_requests": ("Requests for home delivery", "Số yêu cầu chi trả tại nhà"),
    "home_delivery_scheduled": ("Home deliveries scheduled", "Số lượt chi trả tại nhà được xếp lịch"),
    "fees_waived_vnd": ("Withdrawal fees waived (paid by the state)", "Phí rút tiền được miễn (Nhà nước trả)"),
    "digital_team_months": ("Digital-help team-months worked", "Số tháng-nhóm hỗ trợ kỹ thuật số"),
    "digital_teams_helped": ("Beneficiaries helped by digital teams", "Số người được nhóm hỗ trợ kỹ thuật số giúp"),
    "digital_teams_vnd": ("Cost of digital-help teams", "Chi phí nhóm hỗ trợ kỹ thuật số"),
    "cash_closure_listed": (
        "Beneficiaries listed for the end of cash",
        "Số người trong danh sách chuyển khỏi tiền mặt",
    ),
    "enrolment_accounts_opened": (
        "Accounts opened at enrolment for new approvals",
        "Số tài khoản mở khi xét duyệt hồ sơ hưởng mới",
    ),
    "enrolment_accounts_vnd": ("Cost of accounts opened at enrolment", "Chi phí mở tài khoản khi xét duyệt hồ sơ"),
    "cash_in_transit_runs": ("Escorted cash runs to commune points", "Số chuyến áp tải tiền mặt đến điểm chi trả xã"),
    "cash_in_transit_cost_vnd": (
        "Cost of the escorted cash runs (also in the points table's cash transport cost)",
        "Chi phí các chuyến áp tải tiền mặt (đã tính trong chi phí vận chuyển tiền của bảng điểm chi trả)",
    ),
}
for _key in STRATEGY_COUNTS:
    _en, _vi = _STRATEGY_TEXT[_key]
    COLUMNS[_key] = _c(
        INT, VND if _key.endswith("_vnd") else N, f"Over the run: {_en.lower()}", f"Cả kỳ: {_vi[:1].lower()}{_vi[1:]}"
    )

# each programme apart, in the monthly table: a person counts in their first programme's row (the
# `category`) and in these columns once for each programme they receive, first or second
PROGRAMME_TEXT = {
    "social_assistance": ("social assistance", "trợ cấp xã hội"),
    "merit": ("merit allowances", "trợ cấp ưu đãi người có công"),
    "pension": ("social-insurance pensions", "lương hưu bảo hiểm xã hội"),
    "social_pension": ("social pensions", "trợ cấp hưu trí xã hội"),
}
for _key, (_en, _vi) in PROGRAMME_TEXT.items():
    COLUMNS[f"recipients_{_key}"] = _c(
        INT, N, f"Beneficiaries on the list for {_en} (first or second programme)",
        f"Số người trong danh sách hưởng {_vi} (chế độ thứ nhất hoặc thứ hai)",
    )
    COLUMNS[f"entitled_{_key}_vnd"] = _c(
        INT, VND, f"Entitlement of the month from {_en}", f"Số tiền được hưởng trong tháng từ {_vi}"
    )

SWEPT_PARAMETER = Column(
    "(as the value)",
    "(as the value)",
    "A sweep's dotted column: the value of a swept scenario key at the point, or the headline figure of "
    "summary.json at that path",
    "Cột có dấu chấm của một lượt quét: giá trị của khóa kịch bản tại điểm quét, hoặc chỉ số chính trong "
    "summary.json tại đường dẫn đó",
)


def _figures() -> None:
    """The comparison's figures are also columns (runs.parquet, a sweep's results)."""
    from welfare_sim.sim.figures import FIGURES

    vi = _figure_vi()
    for fig in FIGURES:
        unit = {"%": "share", "share": "share"}.get(fig.unit, fig.unit)
        COLUMNS.setdefault(fig.key, _c(FLOAT, unit, fig.label[:1].upper() + fig.label[1:], vi.get(fig.key, fig.label)))


def _figure_vi() -> dict[str, str]:
    # the labels are English msgids; the Vietnamese is the catalogue's (a label is not a pair)
    from welfare_sim.sim.report.i18n import FIGURES as LABELS
    from welfare_sim.sim.report.i18n import Lang

    vi = Lang("vi")
    return {key: vi._word(f"figure:{key}", english) for key, english in LABELS.items()}


def entry(name: str) -> Column:
    """The dictionary entry of a column; swept scenario keys (dotted paths) share one entry."""
    if not COLUMNS.get("cashless_share_run"):
        _figures()
    if name in COLUMNS:
        return COLUMNS[name]
    if "." in name:
        return SWEPT_PARAMETER
    raise KeyError(
        f"column {name!r} has no entry in the data dictionary (welfare_sim/sim/columns.py): add its type, unit "
        "and English and Vietnamese descriptions there, then regenerate docs/data.md"
    )


def dtype_name(dtype: pl.DataType) -> str:
    return "Enum" if isinstance(dtype, pl.Enum) else str(dtype)


def check_frame(frame: pl.DataFrame | pl.Schema | dict) -> None:
    """Raise if a column has no entry or not the dictionary's type."""
    schema = frame.schema if isinstance(frame, pl.DataFrame) else frame
    wrong = []
    for name, dtype in schema.items():
        col = entry(name)
        if col is not SWEPT_PARAMETER and dtype_name(dtype) != col.dtype and dtype != pl.Null:
            wrong.append(f"{name}: {dtype_name(dtype)} (the dictionary says {col.dtype})")
    if wrong:
        raise TypeError("columns of the wrong type: " + "; ".join(wrong))


def parquet_metadata(frame: pl.DataFrame | pl.Schema | dict) -> dict[str, str]:
    """File-level Parquet key-value metadata: per column `welfare_sim:<column>` with its unit and
    descriptions as JSON, after checking every column against the dictionary."""
    check_frame(frame)
    schema = frame.schema if isinstance(frame, pl.DataFrame) else frame
    out = {}
    for name in schema:
        col = entry(name)
        out[f"welfare_sim:{name}"] = json.dumps(
            {"unit": col.unit, "description": col.en, "description_vi": col.vi}, ensure_ascii=False
        )
    return out


def arrow_schema(frame: pl.DataFrame | pl.Schema, arrow: Any) -> Any:
    """`arrow` (the pyarrow.Schema of `frame`, about to be written) with the data dictionary in it:
    each field's unit and English and Vietnamese descriptions in its own field metadata (beside
    polars' own keys, such as an Enum's categories), and the file-level `welfare_sim:<column>`
    entries of `parquet_metadata`. Checks every column against the dictionary first."""
    import pyarrow as pa

    file_meta = parquet_metadata(frame)
    fields = []
    for field in arrow:
        col = entry(field.name)
        ours = {b"unit": col.unit.encode(), b"description": col.en.encode(), b"description_vi": col.vi.encode()}
        fields.append(field.with_metadata({**(field.metadata or {}), **ours}))
    return pa.schema(fields, metadata={**(arrow.metadata or {}), **file_meta})


def markdown() -> str:
    """docs/data.md: the dictionary as a table."""
    entry("month")
    lines = [
        "# Data dictionary",
        "",
        "Every column of every table that welfare-sim writes (run folder, comparison folder, sweep and",
        "sensitivity tables). Generated from `sim/columns.py`; do not edit by hand, run",
        "`python -m welfare_sim.sim.columns > docs/data.md`. The same unit and descriptions are in each",
        "Parquet file's metadata, under the key `welfare_sim:<column>`.",
        "",
        "Types: every integer is Int64 (signed); money is integer VND in columns named `*_vnd`; times carry",
        "their unit in the name (`_min`, `_days`); `period` is the first day of the month; shares are",
        "fractions from 0 to 1. District and commune numbers are 0-based indices, not official codes; every",
        "table that has them also carries the official codes and names (`*_code`, `*_name`), and",
        "`places.parquet` in the run folder lists every commune with its type and coordinates.",
        "A sweep's result table also has one column per swept scenario key (a dotted path), of the",
        "scenario value's type.",
        "",
        "| column | type | unit | description | mô tả |",
        "|---|---|---|---|---|",
    ]
    for name, col in COLUMNS.items():
        lines.append(f"| `{name}` | {col.dtype} | {col.unit} | {col.en} | {col.vi} |")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    sys.stdout.write(markdown())
