"""One chunk of candidates simulated end to end: people, requisitions, the funnel, interviews, scores, outcomes.

Every chunk owns its requisitions, so selection (top share per requisition) is decided inside one chunk and memory
is bounded by the chunk size. Times are seconds since the world's first midnight; rows dated on or after the
world's end are dropped when the tables are built, exactly as if the export had been taken that night.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

import numpy as np
import pyarrow as pa

from ingestion.generator import outcomes, params, resumes, scoring, transcripts
from ingestion.generator.people import make_names
from ingestion.generator.tables import build, dates, ids, masked, timestamps
from ingestion.generator.vocab import (
    AGE_BANDS,
    AI_VENDORS,
    COMPETENCIES,
    DEPARTMENTS,
    ERASURE_SCOPES,
    ETHNICITIES,
    GENDERS,
    JOB_FAMILIES,
    JOB_TITLES,
    REGIONS,
    SOURCE_CHANNELS,
)

DAY_S = 86_400
K = len(COMPETENCIES)
MODES = ("ai_video", "human_video", "onsite")
COMPLETED, ABANDONED, FAILED = "completed", "abandoned", "technical_failure"


@dataclass(frozen=True)
class WorldSpec:
    seed: int
    candidates: int
    days: int
    start_date: date
    chunk_size: int

    @property
    def end_secs(self) -> int:
        return self.days * DAY_S


@dataclass
class Counters:
    """Running id counters and document budget, carried from chunk to chunk."""

    requisition: int = 0
    interview: int = 0
    employee: int = 0
    complaint: int = 0


@dataclass
class Stats:
    """What truth.json needs from the simulation, accumulated over chunks."""

    applicant_composite: dict = field(default_factory=dict)  # family -> [n, sum, sum of squares]
    hired_composite: dict = field(default_factory=dict)
    video_interviews: dict = field(default_factory=dict)  # region -> [attempts, technical failures]
    mismatch_ids: list = field(default_factory=list)
    mismatch_count: int = 0
    link_methods: dict = field(default_factory=dict)
    hires: list = field(default_factory=list)  # small per-chunk tables for world/hires.csv

    def add_moments(self, target: dict, family: np.ndarray, values: np.ndarray) -> None:
        for f, name in enumerate(JOB_FAMILIES):
            v = values[family == f]
            acc = target.setdefault(name, [0, 0.0, 0.0])
            acc[0] += len(v)
            acc[1] += float(v.sum())
            acc[2] += float((v * v).sum())


def current_weights() -> np.ndarray:
    """The scorecard in use before any learning: equal weights (the seed scorecard_weights_initial.csv)."""
    return np.full((len(JOB_FAMILIES), K), 1.0 / K)


def business_time(rng: np.random.Generator, day: np.ndarray) -> np.ndarray:
    """A time during office hours (08:00-18:00) on the given day."""
    return np.asarray(day, dtype=np.int64) * DAY_S + 8 * 3600 + rng.integers(0, 10 * 3600, len(day))


def after_days(rng: np.random.Generator, t: np.ndarray, lo: int, hi: int) -> np.ndarray:
    """Office hours, lo..hi days after t, never earlier than five minutes after t."""
    later = business_time(rng, t // DAY_S + rng.integers(lo, hi + 1, len(t)))
    return np.maximum(later, t + 300)


def latents(
    rng: np.random.Generator,
    gender: np.ndarray,
    ethnicity: np.ndarray,
    group_differences: dict[str, dict[str, dict[str, float]]] | None = None,
) -> np.ndarray:
    """Competency latents: correlated standard normals plus the planted group shifts.

    group_differences defaults to params.GROUP_DIFFERENCES; {} plants none (the benchmarks' null world).
    """
    if group_differences is None:
        group_differences = params.GROUP_DIFFERENCES
    chol = np.linalg.cholesky(np.asarray(params.latent_covariance()))
    z = rng.normal(0.0, 1.0, (len(gender), K)) @ chol.T
    for attribute, values in (("gender", gender), ("ethnicity", ethnicity)):
        for group, shifts in group_differences.get(attribute, {}).items():
            rows = values == group
            for competency, shift in shifts.items():
                z[rows, COMPETENCIES.index(competency)] += shift
    return z


class ChunkSimulation:
    """Simulates candidates [offset, offset + n) and returns one Arrow table per source."""

    def __init__(
        self,
        spec: WorldSpec,
        index: int,
        offset: int,
        n: int,
        counters: Counters,
        interviewers: scoring.Interviewers,
        stats: Stats,
    ):
        self.spec = spec
        self.rng = np.random.default_rng([spec.seed, 1, index])
        self.offset = offset
        self.n = n
        self.counters = counters
        self.interviewers = interviewers
        self.stats = stats
        self.tables: dict[str, pa.Table] = {}
        self.events: list[tuple[np.ndarray, str, np.ndarray]] = []

    def run(self) -> dict[str, pa.Table]:
        self._requisitions()
        self._candidates()
        self._resumes()
        self._screening()
        self._interviews()
        self._scores()
        self._selection()
        self._hires()
        self._application_events()
        self._requisition_rows()
        self._erasures()
        return self.tables

    def _keep(self, day: np.ndarray) -> np.ndarray:
        return (day >= 0) & (day < self.spec.days)

    def _requisitions(self) -> None:
        rng, spec = self.rng, self.spec
        n_req = max(1, round(self.n / params.APPLICANTS_PER_REQUISITION))
        self.req_family = rng.choice(len(JOB_FAMILIES), n_req, p=params.FAMILY_SHARES)
        self.req_region = rng.choice(len(REGIONS), n_req, p=params.REGION_SHARES)
        self.req_department = np.empty(n_req, dtype=object)
        self.req_title = np.empty(n_req, dtype=object)
        for f, name in enumerate(JOB_FAMILIES):
            rows = np.flatnonzero(self.req_family == f)
            self.req_department[rows] = np.asarray(DEPARTMENTS[name], dtype=object)[
                rng.integers(0, len(DEPARTMENTS[name]), len(rows))
            ]
            self.req_title[rows] = np.asarray(JOB_TITLES[name], dtype=object)[
                rng.integers(0, len(JOB_TITLES[name]), len(rows))
            ]
        self.req_open_day = rng.integers(0, max(1, spec.days - 7), n_req)
        self.req_ids = ids("REQ-", self.counters.requisition + np.arange(n_req) + 1, 6)
        self.counters.requisition += n_req
        # Some requisitions draw many more applicants than others.
        self.req_popularity = rng.lognormal(0.0, 0.5, n_req)

    def _candidates(self) -> None:
        rng, n = self.rng, self.n
        p = self.req_popularity / self.req_popularity.sum()
        self.req = rng.choice(len(p), n, p=p)
        self.family = self.req_family[self.req]
        self.region = np.where(
            rng.random(n) < params.CANDIDATE_IN_REQ_REGION,
            self.req_region[self.req],
            rng.choice(len(REGIONS), n, p=params.REGION_SHARES),
        )
        self.gender = np.asarray(GENDERS, dtype=object)[rng.choice(len(GENDERS), n, p=params.GENDER_SHARES)]
        answered = np.asarray(ETHNICITIES[:-1], dtype=object)[
            rng.choice(len(ETHNICITIES) - 1, n, p=params.ETHNICITY_SHARES)
        ]
        blank_rate = np.asarray([params.ETHNICITY_BLANK_BY_REGION[r] for r in REGIONS])[self.region]
        self.ethnicity = np.where(rng.random(n) < blank_rate, "", answered).astype(object)
        self.jurisdiction = scoring.jurisdictions_for(rng, self.region)
        self.age_band = np.asarray(AGE_BANDS, dtype=object)[rng.choice(len(AGE_BANDS), n, p=params.AGE_BAND_SHARES)]
        self.z = latents(rng, self.gender, self.ethnicity)
        self.care = rng.random(n) < params.CARE_MENTION_SHARE
        self.consent_recording = rng.random(n) < params.CONSENT_RECORDING_SHARE
        self.numbers = self.offset + np.arange(n) + 1
        self.candidate_ids = ids("C-", self.numbers, 7)
        self.application_ids = ids("APP-", self.numbers, 7)
        self.pii = make_names(rng, np.asarray(REGIONS, dtype=object)[self.region], self.gender, self.numbers)
        wait = np.minimum(np.floor(rng.exponential(12.0, n)), 60).astype(int)
        self.t_apply = business_time(rng, self.req_open_day[self.req] + wait)
        self.add_event(np.arange(n), "applied", self.t_apply)

        t_consent = self.t_apply - rng.integers(60, 900, n)
        keep = self._keep(self.t_apply // DAY_S)
        columns = {
            "candidate_id": self.candidate_ids[keep],
            "full_name": self.pii["full_name"][keep],
            "email": self.pii["email"][keep],
            "phone": self.pii["phone"][keep],
            "gender": masked(self.gender, self.gender != "")[keep],
            "ethnicity": masked(self.ethnicity, self.ethnicity != "")[keep],
            "age_band": masked(self.age_band, self.age_band != "")[keep],
            "source_channel": np.asarray(SOURCE_CHANNELS, dtype=object)[
                rng.choice(len(SOURCE_CHANNELS), n, p=params.SOURCE_CHANNEL_SHARES)
            ][keep],
            "region": np.asarray(REGIONS, dtype=object)[self.region][keep],
            "consent_recording": self.consent_recording[keep],
            "consent_analytics": (rng.random(n) < params.CONSENT_ANALYTICS_SHARE)[keep],
            "consent_at": timestamps(self.spec.start_date, t_consent[keep]),
        }
        self.tables["candidates"] = build("candidates", columns, (self.t_apply // DAY_S)[keep])

    def add_event(self, rows: np.ndarray, event: str, t: np.ndarray) -> None:
        self.events.append((np.asarray(rows), event, np.asarray(t, dtype=np.int64)))

    def _resumes(self) -> None:
        rng, n, spec = self.rng, self.n, self.spec
        self.claims = resumes.draw_claims(rng, self.z, self.family, self.age_band)
        has = (rng.random(n) < params.RESUME_SHARE) & self._keep(self.t_apply // DAY_S)
        rows = np.flatnonzero(has)
        self.has_resume = has
        u = rng.random(len(rows))
        pdf_share, docx_share = params.DOCUMENT_SHARE["pdf"], params.DOCUMENT_SHARE["docx"]
        fmt = np.where(u < pdf_share, "pdf", np.where(u < pdf_share + docx_share, "docx", "txt")).astype(object)
        # Documents are capped per world (PDF/DOCX rendering costs milliseconds); the cap is shared across chunks.
        budget = int(np.ceil(params.MAX_DOCUMENTS_PER_FORMAT * n / spec.candidates))
        for kind in ("pdf", "docx"):
            over = np.flatnonzero(fmt == kind)[budget:]
            fmt[over] = "txt"
        apply_year = (np.datetime64(spec.start_date, "D") + self.t_apply // DAY_S).astype("datetime64[Y]")
        text = resumes.texts(
            rng,
            rows,
            self.pii["ascii_name"],
            self.pii["email"],
            self.pii["phone"],
            self.family,
            self.req_title[self.req],
            self.claims,
            apply_year.astype(int) + 1970,
        )
        resume_ids = ids("RES-", self.numbers[rows], 7)
        is_doc = fmt != "txt"
        file_path = np.where(is_doc, "files/" + resume_ids.astype(str) + "." + fmt.astype(str), None).astype(object)
        columns = {
            "resume_id": resume_ids,
            "candidate_id": self.candidate_ids[rows],
            "received_at": timestamps(spec.start_date, self.t_apply[rows] + rng.integers(5, 120, len(rows))),
            "format": fmt,
            "text": masked(text, ~is_doc),
            "file_path": file_path,
        }
        internal = {"_document_text": pa.array(masked(text, is_doc), type=pa.string())}
        self.tables["resumes"] = build("resumes", columns, (self.t_apply // DAY_S)[rows], internal)

    def _screening(self) -> None:
        rng, n = self.rng, self.n
        early = rng.random(n) < params.EARLY_WITHDRAW
        self.add_event(np.flatnonzero(early), "withdrawn", after_days(rng, self.t_apply[early], 1, 10))
        # Screening reads the resume: longer skills lists and more years look better on paper.
        p_in = np.clip(
            params.SCREEN_IN_BASE
            + 0.03 * (self.claims.years.clip(0, 15) - 6) / 3
            + 0.04 * (np.array([len(s) for s in self.claims.skills]) - 5) / 2,
            0.1,
            0.9,
        )
        screened = ~early
        t_screen = after_days(rng, self.t_apply, 1, 5)
        passed = screened & (rng.random(n) < p_in)
        self.add_event(np.flatnonzero(screened & ~passed), "screened_out", t_screen[screened & ~passed])
        self.add_event(np.flatnonzero(passed), "screened_in", t_screen[passed])
        invited = passed & (rng.random(n) < params.INVITE_AFTER_SCREEN)
        dropped = passed & ~invited
        self.add_event(np.flatnonzero(dropped), "withdrawn", after_days(rng, t_screen[dropped], 1, 6))
        self.t_invite = after_days(rng, t_screen, 0, 2)
        self.add_event(np.flatnonzero(invited), "interview_invited", self.t_invite[invited])
        self.invited = invited

    def _status(self, mode: np.ndarray, region: np.ndarray) -> np.ndarray:
        tf = np.asarray([params.TECHNICAL_FAILURE_RATE_BY_REGION[r] for r in REGIONS])[region]
        tf = np.where(mode == "onsite", 0.0, tf)
        ab = np.vectorize(params.ABANDON_RATE.get, otypes=[float])(mode) if len(mode) else np.zeros(0)
        u = self.rng.random(len(mode))
        return np.where(u < tf, FAILED, np.where(u < tf + ab, ABANDONED, COMPLETED)).astype(object)

    def _interviews(self) -> None:
        rng, spec = self.rng, self.spec
        apps = np.flatnonzero(self.invited)
        mode = np.asarray(MODES, dtype=object)[rng.choice(3, len(apps), p=params.MODE_SHARES)]
        mode[~self.consent_recording[apps]] = "onsite"  # no recording consent: no video, no AI, no transcript
        start1 = after_days(rng, self.t_invite[apps], 1, 7)
        status1 = self._status(mode, self.region[apps])
        retry = (status1 == FAILED) & (rng.random(len(apps)) < params.RETRY_AFTER_FAILURE)
        start2 = after_days(rng, start1[retry] + 600, 1, 4)
        status2 = self._status(mode[retry], self.region[apps[retry]])

        app = np.concatenate([apps, apps[retry]])
        iv_mode = np.concatenate([mode, mode[retry]])
        start = np.concatenate([start1, start2])
        status = np.concatenate([status1, status2])
        attempt = np.concatenate([np.ones(len(apps), int), np.full(int(retry.sum()), 2)])
        order = np.lexsort((attempt, app))
        app, iv_mode, start, status, attempt = app[order], iv_mode[order], start[order], status[order], attempt[order]
        m = len(app)
        self.iv_ids = ids("IV-", self.counters.interview + np.arange(m) + 1, 8)
        self.counters.interview += m

        recorded = (status == COMPLETED) & (iv_mode != "onsite")
        zh = np.asarray(REGIONS, dtype=object)[self.region[app]] == "CN"
        rec = np.flatnonzero(recorded)
        seg = transcripts.segments(
            rng,
            zh[rec],
            iv_mode[rec] == "ai_video",
            self.z[app[rec], COMPETENCIES.index("communication")],
            self.care[app[rec]],
        )
        duration = np.where(
            status == COMPLETED,
            rng.integers(30 * 60, 60 * 60, m),
            np.where(status == ABANDONED, rng.integers(120, 600, m), rng.integers(30, 300, m)),
        )
        duration[rec] = np.ceil(seg["total_seconds"]).astype(int) + 5
        end = start + duration
        self.iv_app, self.iv_mode, self.iv_start, self.iv_end, self.iv_status = app, iv_mode, start, end, status
        self.iv_zh = zh

        final = np.r_[app[1:] != app[:-1], True]  # the last attempt of each application
        done = final & (status == COMPLETED)
        self.add_event(app[done], "interview_completed", end[done])
        gave_up = final & (status != COMPLETED)
        self.add_event(app[gave_up], "withdrawn", after_days(rng, end[gave_up], 0, 3))
        self.completed_iv = np.flatnonzero(done)

        vendor = np.asarray([v.name for v in AI_VENDORS], dtype=object)[scoring.REGION_VENDOR[self.region[app]]]
        started = self._keep(start // DAY_S)
        columns = {
            "interview_id": self.iv_ids[started],
            "application_id": self.application_ids[app][started],
            "candidate_id": self.candidate_ids[app][started],
            "requisition_id": self.req_ids[self.req[app]][started],
            "started_at": timestamps(spec.start_date, start[started]),
            "ended_at": timestamps(spec.start_date, end[started]),
            "mode": iv_mode[started],
            "status": status[started],
            "vendor": masked(vendor, iv_mode != "onsite")[started],
            "jurisdiction": self.jurisdiction[app][started],
        }
        self.tables["interviews"] = build("interviews", columns, (start // DAY_S)[started])
        self._transcript_table(seg, rec, start)
        self._count_video(iv_mode, status, started, app)

    def _count_video(self, mode: np.ndarray, status: np.ndarray, started: np.ndarray, app: np.ndarray) -> None:
        video = started & (mode != "onsite")
        for r, name in enumerate(REGIONS):
            rows = video & (self.region[app] == r)
            acc = self.stats.video_interviews.setdefault(name, [0, 0])
            acc[0] += int(rows.sum())
            acc[1] += int((rows & (status == FAILED)).sum())

    def _transcript_table(self, seg: dict, rec: np.ndarray, start: np.ndarray) -> None:
        iv = rec[seg["interview"]]
        day = start[iv] // DAY_S
        keep = self._keep(day)
        columns = {
            "interview_id": self.iv_ids[iv][keep],
            "segment_no": seg["segment_no"][keep],
            "question_id": seg["question_id"][keep],
            "speaker": seg["speaker"][keep],
            "start_s": seg["start_s"][keep],
            "end_s": seg["end_s"][keep],
            "text": seg["text"][keep],
            "language": seg["language"][keep],
        }
        self.tables["transcript_segments"] = build("transcript_segments", columns, day[keep])

    def _scores(self) -> None:
        rng, spec = self.rng, self.spec
        civ = self.completed_iv
        app = self.iv_app[civ]
        ratings = scoring.draw_ratings(
            rng, self.z[app], self.region[app], self.iv_mode[civ] != "onsite", self.interviewers
        )
        means = scoring.mean_scores(ratings, len(civ))
        self.composite = scoring.composite(means, self.family[app], current_weights())
        self.means = means

        iv = civ[ratings.interview]
        vendor = scoring.REGION_VENDOR[self.region[self.iv_app[iv]]]
        vendor_names = np.asarray([v.name for v in AI_VENDORS], dtype=object)
        rater_id = np.where(ratings.is_ai, "ai:" + vendor_names[vendor], self.interviewers.ids[ratings.rater])
        # The same rater scores all competencies at once: AI minutes after the interview, humans within three days.
        pair_hash = (iv.astype(np.int64) * 2_654_435_761 + (ratings.rater + 2) * 40_503) % 1_000_003 / 1_000_003
        delay = np.where(ratings.is_ai, 60 + pair_hash * 840, 1800 + pair_hash * 70 * 3600).astype(np.int64)
        scored = self.iv_end[iv] + delay
        versions = np.asarray([v.model_versions for v in AI_VENDORS], dtype=object)
        upgraded = (scored // DAY_S >= spec.days // 2).astype(int)
        model_version = np.where(ratings.is_ai, versions[vendor, upgraded], None)
        keep = self._keep(scored // DAY_S)
        columns = {
            "interview_id": self.iv_ids[iv][keep],
            "rater_id": rater_id[keep],
            "competency": ratings.label[keep],
            "rater_type": np.where(ratings.is_ai, "ai", "human").astype(object)[keep],
            "score": ratings.score_text[keep],
            "scale_min": ratings.scale_min[keep],
            "scale_max": ratings.scale_max[keep],
            "scored_at": timestamps(spec.start_date, scored[keep]),
            "model_version": model_version[keep],
        }
        self.tables["interview_scores"] = build("interview_scores", columns, (scored // DAY_S)[keep])

        completed_in_world = self._keep(self.iv_end[civ] // DAY_S)
        self.stats.add_moments(
            self.stats.applicant_composite, self.family[app][completed_in_world], self.composite[completed_in_world]
        )
        inflated = self.claims.inflated[app] & self.has_resume[app] & completed_in_world
        self.stats.mismatch_count += int(inflated.sum())
        room = params.MISMATCH_LIST_CAP - len(self.stats.mismatch_ids)
        self.stats.mismatch_ids.extend(self.candidate_ids[app][inflated][:room].tolist())

    def _selection(self) -> None:
        """Offers go to the top share of each requisition's completed interviews, by current composite."""
        rng = self.rng
        civ = self.completed_iv
        app = self.iv_app[civ]
        t_done = self.iv_end[civ]
        noisy = self.composite + rng.normal(0.0, params.SELECTION_NOISE_SD, len(civ))
        req = self.req[app]
        order = np.lexsort((-noisy, req))
        sorted_req = req[order]
        starts = np.r_[0, np.flatnonzero(sorted_req[1:] != sorted_req[:-1]) + 1]
        sizes = np.diff(np.r_[starts, len(order)])
        rank = np.arange(len(order)) - np.repeat(starts, sizes)
        offered = np.zeros(len(civ), dtype=bool)
        offered[order] = rank < np.ceil(params.SELECTION_TOP_SHARE * np.repeat(sizes, sizes))

        self.add_event(app[~offered], "rejected", after_days(rng, t_done[~offered], 3, 14))
        t_offer = after_days(rng, t_done[offered], 3, 12)
        self.add_event(app[offered], "offer_made", t_offer)
        accepted = rng.random(len(t_offer)) < params.OFFER_ACCEPT_RATE
        offer_apps = app[offered]
        self.add_event(offer_apps[~accepted], "offer_declined", after_days(rng, t_offer[~accepted], 1, 7))
        t_accept = after_days(rng, t_offer[accepted], 1, 5)
        self.add_event(offer_apps[accepted], "offer_accepted", t_accept)
        start_day = t_accept // DAY_S + rng.integers(14, 36, len(t_accept))
        t_hired = start_day * DAY_S + 9 * 3600 + rng.integers(0, 1800, len(t_accept))
        self.add_event(offer_apps[accepted], "hired", t_hired)
        self.hired_apps = offer_apps[accepted]
        self.hired_start_day = start_day
        self.req_last_hire = np.full(len(self.req_ids), -1)
        np.maximum.at(self.req_last_hire, self.req[self.hired_apps], start_day)
        self.hired_composite = self.composite[offered][accepted]
        self.recorded_apps = set(self.iv_app[civ][self.iv_mode[civ] != "onsite"].tolist())

    def _hires(self) -> None:
        rng = self.rng
        in_world = self._keep(self.hired_start_day)
        apps = self.hired_apps[in_world]
        start_day = self.hired_start_day[in_world]
        self.stats.add_moments(self.stats.hired_composite, self.family[apps], self.hired_composite[in_world])
        recorded = np.asarray([a in self.recorded_apps for a in apps], dtype=bool)
        hires = outcomes.Hires(
            candidate_id=self.candidate_ids[apps],
            family=self.family[apps],
            department=self.req_department[self.req[apps]],
            region=self.region[apps],
            z=self.z[apps],
            start_day=start_day,
            care_observable=self.care[apps] & recorded,
            email=self.pii["email"][apps],
            work_email=self.pii["work_email"][apps],
            full_name=self.pii["full_name"][apps],
        )
        out = outcomes.simulate(rng, hires, self.counters.employee)
        self.counters.employee += len(apps)
        self._employee_table(hires, out)
        self._review_table(hires, out)
        self._complaint_table(hires, out)
        written = self._keep(out.hire_day)
        for method in ("candidate_id", "email", "name_hire_date"):
            self.stats.link_methods[method] = self.stats.link_methods.get(method, 0) + int(
                (out.link_method[written] == method).sum()
            )
        self.stats.hires.append(
            pa.table(
                {
                    "employee_id": out.employee_id[written],
                    "candidate_id": hires.candidate_id[written],
                    "expected_link": out.link_method[written],
                    "job_family": np.asarray(JOB_FAMILIES, dtype=object)[hires.family[written]],
                    "performance": np.round(out.performance[written], 4),
                    "care_mention": hires.care_observable[written],
                }
            )
        )

    def _employee_table(self, hires: outcomes.Hires, out: outcomes.Outcomes) -> None:
        spec = self.spec
        exit_abs = out.hire_day + np.where(np.isfinite(out.exit_day), out.exit_day, 10**6).astype(np.int64)
        base = {
            "employee_id": out.employee_id,
            "candidate_id": out.hris_candidate_id,
            "email": out.hris_email,
            "full_name": hires.full_name,
            "job_family": np.asarray(JOB_FAMILIES, dtype=object)[hires.family],
            "department": hires.department,
            "manager_id": out.manager_id,
            "region": np.asarray(REGIONS, dtype=object)[hires.region],
        }
        hired = self._keep(out.hire_day)
        left = hired & self._keep(exit_abs)
        new_rows = {k: v[hired] for k, v in base.items()}
        new_rows["hire_date"] = dates(spec.start_date, out.hire_day[hired])
        exit_rows = {k: v[left] for k, v in base.items()}
        exit_rows["hire_date"] = dates(spec.start_date, out.hire_day[left])
        exit_rows["termination_date"] = dates(spec.start_date, exit_abs[left])
        exit_rows["termination_type"] = out.exit_type[left]
        exit_rows["termination_reason"] = out.exit_reason[left]
        self.tables["employees"] = pa.concat_tables(
            [
                build("employees", new_rows, out.hire_day[hired]),
                build("employees", exit_rows, exit_abs[left]),
            ]
        )

    def _review_table(self, hires: outcomes.Hires, out: outcomes.Outcomes) -> None:
        rev = outcomes.reviews(self.rng, hires, out)
        h = rev["hire"]
        day = out.hire_day[h] + rev["after"]
        keep = self._keep(day) & self._keep(out.hire_day[h])
        is_probation = rev["period"] == "probation"
        columns = {
            "employee_id": out.employee_id[h][keep],
            "review_date": dates(self.spec.start_date, day[keep]),
            "review_period": rev["period"][keep],
            "rating": masked(rev["rating"], ~is_probation).astype(object)[keep],
            "scale_min": np.where(is_probation, np.nan, 1.0)[keep],
            "scale_max": np.where(is_probation, np.nan, rev["scale_max"].astype(float))[keep],
            "reviewer_id": out.manager_id[h][keep],
            "probation_passed": masked(rev["passed"], is_probation)[keep],
        }
        columns["rating"] = pa.array([None if r is None else str(r) for r in columns["rating"]], type=pa.string())
        columns["scale_min"] = pa.array(columns["scale_min"], from_pandas=True)
        columns["scale_max"] = pa.array(columns["scale_max"], from_pandas=True)
        self.tables["performance_reviews"] = build("performance_reviews", columns, day[keep])

    def _complaint_table(self, hires: outcomes.Hires, out: outcomes.Outcomes) -> None:
        c = outcomes.complaints(self.rng, hires, out, self.spec.days)
        keep = self._keep(c["day"])
        n = int(keep.sum())
        columns = {
            "complaint_id": ids("CMP-", self.counters.complaint + np.arange(n) + 1, 7),
            "employee_id": out.employee_id[c["hire"]][keep],
            "received_at": timestamps(self.spec.start_date, c["secs"][keep]),
            "channel": c["channel"][keep],
            "category": c["category"][keep],
            "severity": c["severity"][keep],
            "substantiated": c["substantiated"][keep],
        }
        self.counters.complaint += n
        self.tables["complaints"] = build("complaints", columns, c["day"][keep])

    def _application_events(self) -> None:
        rows = np.concatenate([r for r, _, _ in self.events])
        event = np.concatenate([np.full(len(r), e, dtype=object) for r, e, _ in self.events])
        t = np.concatenate([t for _, _, t in self.events])
        keep = self._keep(t // DAY_S)
        rows, event, t = rows[keep], event[keep], t[keep]
        columns = {
            "application_id": self.application_ids[rows],
            "event": event,
            "event_at": timestamps(self.spec.start_date, t),
            "candidate_id": self.candidate_ids[rows],
            "requisition_id": self.req_ids[self.req[rows]],
        }
        self.tables["application_events"] = build("application_events", columns, t // DAY_S)

    def _requisition_rows(self) -> None:
        """An opening row on the day a requisition opens; a later closing row, whose version wins."""
        rng, spec = self.rng, self.spec
        n_req = len(self.req_ids)
        headcount = np.maximum(1, np.bincount(self.req[self.hired_apps], minlength=n_req))
        filled = self.req_last_hire >= 0
        close_day = np.where(filled, self.req_last_hire + rng.integers(0, 4, n_req), self.req_open_day + 150)
        base = {
            "requisition_id": self.req_ids,
            "job_family": np.asarray(JOB_FAMILIES, dtype=object)[self.req_family],
            "job_title": self.req_title,
            "department": self.req_department,
            "region": np.asarray(REGIONS, dtype=object)[self.req_region],
            "headcount": headcount,
        }
        opened = self._keep(self.req_open_day)
        closed = opened & self._keep(close_day)
        open_rows = {k: v[opened] for k, v in base.items()}
        open_rows["opened_at"] = dates(spec.start_date, self.req_open_day[opened])
        close_rows = {k: v[closed] for k, v in base.items()}
        close_rows["opened_at"] = dates(spec.start_date, self.req_open_day[closed])
        close_rows["closed_at"] = dates(spec.start_date, close_day[closed])
        self.tables["requisitions"] = pa.concat_tables(
            [
                build("requisitions", open_rows, self.req_open_day[opened]),
                build("requisitions", close_rows, close_day[closed]),
            ]
        )

    def _erasures(self) -> None:
        rng, spec = self.rng, self.spec
        asks = np.flatnonzero(rng.random(self.n) < params.ERASURE_SHARE)
        t = after_days(rng, self.t_apply[asks], 30, 300)
        keep = self._keep(t // DAY_S) & self._keep(self.t_apply[asks] // DAY_S)
        scope = np.asarray(ERASURE_SCOPES, dtype=object)[rng.choice(3, len(asks), p=(0.6, 0.25, 0.15))]
        columns = {
            "candidate_id": self.candidate_ids[asks][keep],
            "requested_at": timestamps(spec.start_date, t[keep]),
            "scope": scope[keep],
        }
        self.tables["erasure_requests"] = build("erasure_requests", columns, (t // DAY_S)[keep])
