"""The sample world: HR-system exports of synthetic people, with the truth that was planted in them.

    from ingestion.generator import generate
    truth = generate(out_dir, candidates=2000, days=540, seed=7, dirty=0.02)

writes
    out_dir/landing/<source>/<YYYY-MM-DD>/<source>_<YYYYMMDD>[_<part>].<csv|jsonl|parquet|xlsx>
        one folder per day a record became known; resume documents under <day>/files/RES-<n>.<pdf|docx>
    out_dir/world/truth.json   planted truth (returned as a dict too)
    out_dir/world/faults.csv   one row per injected fault: file, source, row_number, fault_type, expected_reason,
                               column, detail
    out_dir/world/hires.csv    the true candidate of every employee, with the link method the HRIS row allows

How the world works: each candidate has six competency latents (correlated normals, shifted by group); every
score in the files is latent + rater leniency + noise on the vendor's scale; hiring takes the top share of each
requisition by the current (equal-weight) composite; performance, exits and complaints follow from the latents
with the coefficients in params.py. See truth.json for every planted number and how it was computed.

Fault rule: a fault never replaces or removes a clean record. Row faults are damaged copies inserted right after
their clean original (CSV and JSON lines files only); whole-file faults are clean files in an awkward shape that
must load (BOM + CRLF, GBK, an extra column), a clean file with a cut-off copy of its last row appended
(malformed_row), or extra files in the same day folder (empty; copies missing a required column). So the clean
world and every count in truth.json are identical for any dirty rate, and ingestion can be held to: every listed
fault quarantined with its reason, every other row loaded.
"""

from ingestion.generator.world import generate

__all__ = ["generate"]
