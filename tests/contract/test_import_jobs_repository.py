"""The import jobs' repository and the residents' lookups by natural key, one contract for the in-memory fakes and
DynamoDB (moto): the fakes the import's service tests run on cannot drift."""
from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timezone

import pytest

from chalicelib.core.errors import ConflictError
from chalicelib.core.ids import new_id, sortable_token
from chalicelib.residents.domain import UnitPlace
from chalicelib.residents.imports.domain import FailedRow, ImportJob
from chalicelib.residents.imports.files import Chunk
from chalicelib.residents.imports.ports import ImportJobStore
from tests.contract.conftest import Backend
from tests.contract.test_residents_repository import Harness, admin_of, repos, resident, unit  # noqa: F401
from tests.fakes.imports import InMemoryImportJobs

NOW = datetime(2026, 11, 27, 2, 0, tzinfo=timezone.utc)
STAMP = "2026-11-27T02:00:00.000Z"


class MovedError(ConflictError):
    pass


@pytest.fixture
def jobs(backend: Backend) -> ImportJobStore:
    if backend.store is not None:
        return InMemoryImportJobs(backend.store, backend.cursors)
    from chalicelib.residents.imports.repository import ImportJobRepository

    return ImportJobRepository(backend.cursors)


def job(job_id: str | None = None, **changes) -> ImportJob:
    return replace(ImportJob(job_id or new_id("imp"), "residents", "xlsx", "upl_1", "住户.xlsx", "queued",
                             {"type": "staff", "id": "usr_admin", "role": "admin"}, STAMP, STAMP), **changes)


def test_units_and_residents_are_found_by_what_a_file_names(repos: Harness):  # noqa: F811 - the shared fixture
    flat = unit("unt_" + new_id("x")[-8:], building_id="bld_1", number="101", entrance=None)
    chen = resident(new_id("res"), "13800000001", flat)
    repos.commit(lambda uow: repos.residents.stage_new_unit(uow, repos.ctx, flat, on_duplicate=ConflictError()),
                 lambda uow: repos.residents.stage_new_resident(uow, repos.ctx, chen, on_phone_taken=ConflictError()))
    place = UnitPlace(flat.community_id, flat.building_id, None, "101")
    elsewhere = UnitPlace(flat.community_id, flat.building_id, "1单元", "101")

    assert repos.residents.units_at(repos.ctx, [place, elsewhere, place]) == {place: flat}
    found = repos.residents.residents_with_phones(repos.ctx, ["13800000001", "13800000002"])
    assert list(found) == ["13800000001"] and found["13800000001"].resident_id == chen.resident_id
    stranger = admin_of(new_id("tnt"))
    assert repos.residents.units_at(stranger, [place]) == {}
    assert repos.residents.residents_with_phones(stranger, ["13800000001"]) == {}
    assert repos.residents.units_at(repos.ctx, []) == {} and repos.residents.residents_with_phones(repos.ctx, []) == {}


def test_a_job_reads_back_as_stored_and_lists_newest_first(jobs: ImportJobStore, backend: Backend):
    ctx = admin_of(new_id("tnt"))
    first, second, third = (job(f"imp_{sortable_token(1_800_000_000_000 + i)}") for i in range(3))
    for each in (first, second, third):
        backend.commit(ctx, NOW, lambda uow, each=each: jobs.stage_new(uow, ctx, each, idempotency=None,
                                                                       on_replay=MovedError(), now=NOW))

    assert jobs.get(ctx, first.job_id, consistent=True) == first
    page, cursor = jobs.list_jobs(ctx, 2, None)
    rest, end = jobs.list_jobs(ctx, 2, cursor)
    assert [j.job_id for j in page + rest] == [third.job_id, second.job_id, first.job_id] and end is None
    assert jobs.get(admin_of(new_id("tnt")), first.job_id) is None


def test_an_idempotency_key_names_the_first_job_once(jobs: ImportJobStore, backend: Backend):
    ctx = admin_of(new_id("tnt"))
    started = job()
    backend.commit(ctx, NOW, lambda uow: jobs.stage_new(uow, ctx, started, idempotency=("key", "body"),
                                                        on_replay=MovedError(), now=NOW))

    assert jobs.idempotency_record(ctx, "key") == ("body", started.job_id)
    with pytest.raises(MovedError):
        backend.commit(ctx, NOW, lambda uow: jobs.stage_new(uow, ctx, job(), idempotency=("key", "other"),
                                                            on_replay=MovedError(), now=NOW))
    assert jobs.idempotency_record(admin_of(new_id("tnt")), "key") is None


def test_a_job_runs_counts_on_condition_and_completes(jobs: ImportJobStore, backend: Backend):
    ctx = admin_of(new_id("tnt"))
    queued = job()
    backend.commit(ctx, NOW, lambda uow: jobs.stage_new(uow, ctx, queued, idempotency=None, on_replay=MovedError(),
                                                        now=NOW))
    chunks = [Chunk(2, 501, 40, 9000), Chunk(502, 700, 9000, 12000)]
    read = {"file_format": "xlsx", "header": ["小区", "楼栋"], "total_rows": 699, "chunks": chunks,
            "started_at": STAMP}
    backend.commit(ctx, NOW, lambda uow: jobs.stage_read(uow, ctx, queued, **read, on_conflict=MovedError()))
    with pytest.raises(MovedError):  # read once: a second reader finds it running
        backend.commit(ctx, NOW, lambda uow: jobs.stage_read(uow, ctx, queued, **read, on_conflict=MovedError()))

    bad = FailedRow(4, "phone", "invalid", "phone: must be an 11-digit mainland mobile number", ["翠苑", "1栋"],
                    [{"field": "name", "code": "required", "message": "name: required"}])
    worse = FailedRow(3, None, "conflict", "A resident with this phone already exists.", ["翠苑"])
    backend.commit(ctx, NOW, lambda uow: jobs.stage_progress(
        uow, ctx, queued.job_id, after=0, through=10, created=6, updated=1, unchanged=0, failed_rows=[bad, worse],
        updated_at=STAMP, on_conflict=MovedError()))
    with pytest.raises(MovedError):  # the same rows again: the job stands at 10 now, not at 0
        backend.commit(ctx, NOW, lambda uow: jobs.stage_progress(
            uow, ctx, queued.job_id, after=0, through=10, created=6, updated=1, unchanged=0, failed_rows=[],
            updated_at=STAMP, on_conflict=MovedError()))

    running = jobs.get(ctx, queued.job_id, consistent=True)
    assert (running.status, running.chunks, running.header, running.total_rows) == ("running", chunks, ["小区", "楼栋"],
                                                                                     699)
    assert (running.created, running.updated, running.failed, running.processed_rows, running.applied_through) == (
        6, 1, 2, 9, 10)
    assert jobs.failed_rows(ctx, queued.job_id, 1) == [worse]
    assert list(jobs.all_failed_rows(ctx, queued.job_id)) == [worse, bad]

    backend.commit(ctx, NOW, lambda uow: jobs.stage_completed(uow, ctx, running, finished_at=STAMP,
                                                              on_conflict=MovedError()))
    with pytest.raises(MovedError):
        backend.commit(ctx, NOW, lambda uow: jobs.stage_completed(uow, ctx, running, finished_at=STAMP,
                                                                  on_conflict=MovedError()))
    assert (jobs.get(ctx, queued.job_id, consistent=True).status,
            jobs.get(ctx, queued.job_id, consistent=True).finished_at) == ("completed", STAMP)


def test_a_file_that_cannot_be_read_fails_a_queued_job_only(jobs: ImportJobStore, backend: Backend):
    ctx = admin_of(new_id("tnt"))
    queued = job()
    backend.commit(ctx, NOW, lambda uow: jobs.stage_new(uow, ctx, queued, idempotency=None, on_replay=MovedError(),
                                                        now=NOW))
    backend.commit(ctx, NOW, lambda uow: jobs.stage_failure(uow, ctx, queued, code="empty_file", message="空",
                                                            finished_at=STAMP, on_conflict=MovedError()))

    failed = jobs.get(ctx, queued.job_id, consistent=True)
    assert (failed.status, failed.failure, failed.finished_at) == ("failed", {"code": "empty_file", "message": "空"},
                                                                   STAMP)
    with pytest.raises(MovedError):
        backend.commit(ctx, NOW, lambda uow: jobs.stage_failure(uow, ctx, queued, code="x", message="x",
                                                                finished_at=STAMP, on_conflict=MovedError()))
