"""Import jobs on in-memory fakes: a file uploaded, read once, applied chunk by chunk; counts and failed rows kept on
the job; a redelivered or crashed chunk changes nothing twice; the same file again creates nothing."""
from __future__ import annotations

import csv
import io
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

import pytest
from openpyxl import Workbook

from chalicelib.core.errors import ConflictError, NotFoundError, ValidationFailedError
from chalicelib.core.permissions import Permission, Role
from chalicelib.core.tenancy import Principal, TenantContext
from chalicelib.residents.imports import files
from chalicelib.residents.imports.domain import rows_key, upload_key
from chalicelib.residents.imports.jobs import ImportJobs
from chalicelib.residents.imports.schemas import ImportJobIn, ImportJobOut, ImportUploadIn
from chalicelib.residents.imports.worker import ImportWorker
from chalicelib.residents.roster import Roster
from chalicelib.residents.schemas import CommunityIn
from tests.fakes.imports import InMemoryFiles, InMemoryImportJobs, UploadRefusedError
from tests.fakes.residents import ResidentDesk

NOW = datetime(2026, 11, 27, 2, 0, tzinfo=timezone.utc)
ADMIN = TenantContext("tnt_1", Principal("staff", "usr_admin", Role.ADMIN, frozenset(Permission)))
OTHER = TenantContext("tnt_2", Principal("staff", "usr_other", Role.ADMIN, frozenset(Permission)))
HEADER = ["小区", "楼栋", "单元", "房号", "姓名", "手机", "身份"]
CHUNK = 10


def rows(count: int, *, bad: tuple[int, ...] = ()) -> list[list[str]]:
    """``count`` residents of 翠苑, one unit each; the rows at the ``bad`` positions carry a phone nobody has."""
    return [["翠苑", f"{1 + i // 50}栋", "", str(100 + i), f"住户{i}", "12345" if i in bad else f"1380000{i:04d}",
             "业主"] for i in range(count)]


def as_csv(lines: list[list[str]]) -> bytes:
    out = io.StringIO()
    csv.writer(out).writerows([HEADER, *lines])
    return out.getvalue().encode()


def as_xlsx(lines: list[list[Any]]) -> bytes:
    book = Workbook(write_only=True)
    sheet = book.create_sheet()
    for line in [HEADER, *lines]:
        sheet.append(line)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


class CrashAfter:
    """A unit-of-work factory whose ``n``-th commit dies before it writes (the Lambda killed mid-chunk)."""

    def __init__(self, factory: Any, n: int) -> None:
        self.factory, self.left = factory, n

    def __call__(self, *args: Any) -> Any:
        uow = self.factory(*args)
        commit = uow.commit

        def crashing_commit() -> None:
            self.left -= 1
            if self.left == 0:
                raise RuntimeError("the container died")
            commit()

        uow.commit = crashing_commit
        return uow


@dataclass
class World:
    desk: ResidentDesk
    files: InMemoryFiles
    store: InMemoryImportJobs
    jobs: ImportJobs
    queue: list[dict[str, Any]] = field(default_factory=list)

    def worker(self, new_uow: Any = None) -> ImportWorker:
        new_uow = new_uow or self.desk.store.unit_of_work
        return ImportWorker(self.store, self.files, Roster(self.desk.repo, new_uow), new_uow,
                            lambda message, delay: self.queue.append(message), chunk_rows=CHUNK)

    def upload(self, data: bytes, content_type: str = files.CSV_TYPE, ctx: TenantContext = ADMIN) -> str:
        slot = self.jobs.new_upload(ctx, ImportUploadIn(content_type=content_type))
        self.files.upload(slot.fields, data)
        return slot.id

    def start(self, data: bytes, content_type: str = files.CSV_TYPE, **body: Any) -> ImportJobOut:
        job = self.jobs.start(ADMIN, ImportJobIn(upload_id=self.upload(data, content_type), **body), None, NOW)
        [started] = [e for e in self.desk.store.events if e.type == "import.started" and e.subject_id == job.id]
        self.queue.append(started.to_message())  # what the outbox relay sends the imports queue
        return job

    def run(self, worker: ImportWorker | None = None) -> int:
        """Deliver the imports queue's messages until it is empty; how many were delivered."""
        worker, delivered = worker or self.worker(), 0
        while self.queue:
            worker.handle(self.queue.pop(0), NOW)
            delivered += 1
        return delivered

    def import_file(self, data: bytes, content_type: str = files.CSV_TYPE) -> ImportJobOut:
        job = self.start(data, content_type)
        self.run()
        return self.jobs.get(ADMIN, job.id)


@pytest.fixture
def world() -> World:
    """Given the community 翠苑 and nothing in it."""
    desk = ResidentDesk.empty()
    desk.places.create_community(ADMIN, CommunityIn(name="翠苑"), NOW)
    store, blobs = InMemoryImportJobs(desk.store), InMemoryFiles()
    return World(desk, blobs, store, ImportJobs(store, blobs, desk.store.unit_of_work))


def test_a_job_is_queued_then_reads_its_file_once_and_applies_it_chunk_by_chunk(world: World):
    job = world.start(as_csv(rows(25, bad=(7,))), filename="翠苑住户.csv")
    assert (job.status, job.total_rows, job.processed_rows, job.format) == ("queued", None, 0, "csv")

    delivered = world.run()

    done = world.jobs.get(ADMIN, job.id)
    assert (done.status, done.total_rows, done.processed_rows) == ("completed", 25, 25)
    assert (done.created, done.updated, done.unchanged, done.failed) == (24, 0, 0, 1)
    assert delivered == 1 + 3  # the file read, then three chunks of ten rows (the last completes the job)
    assert [(e.row, e.field, e.code) for e in done.errors] == [(9, "phone", "invalid")]
    assert done.errors_url == f"/v1/imports/{job.id}/errors"
    assert len(world.desk.repo.all_residents(ADMIN)) == 24
    types = [e.type for e in world.desk.store.events]
    assert types[-1] == "import.completed" and "resident.registered" not in types  # the job is the record
    completed = world.desk.store.events[-1]
    assert completed.data == {"kind": "residents", "status": "completed", "total_rows": 25, "processed_rows": 25,
                              "created": 24, "updated": 0, "unchanged": 0, "failed": 1}
    assert completed.actor["id"] == "usr_admin"
    # the upload and the row copy are gone; the error file stays
    assert upload_key("tnt_1", done_upload(world, job.id)) not in world.files.objects
    assert rows_key("tnt_1", job.id) not in world.files.objects


def done_upload(world: World, job_id: str) -> str:
    return world.store.get(ADMIN, job_id).upload_id


def test_the_error_file_holds_the_failed_rows_as_the_file_had_them(world: World):
    lines = rows(12, bad=(3, 11))
    lines[5][0] = "无此小区"
    job = world.import_file(as_csv(lines))

    download = world.jobs.error_file(ADMIN, job.id)

    assert download.rows == 3 and download.filename.endswith("-errors.csv")
    body, content_type = world.files.objects[f"t/tnt_1/imports/{job.id}/errors.csv"]
    assert content_type.startswith("text/csv")
    got = list(csv.reader(io.StringIO(body.decode("utf-8-sig"))))
    assert got[0] == [*HEADER, "行号", "错误"]
    assert [(line[4], line[7], line[8]) for line in got[1:]] == [
        ("住户3", "5", "phone: must be an 11-digit mainland mobile number"),
        ("住户5", "7", "community: no community named 无此小区"),
        ("住户11", "13", "phone: must be an 11-digit mainland mobile number")]


def test_xlsx_with_a_formula_cell_a_numeric_phone_and_a_duplicate_phone(world: World):
    lines: list[list[Any]] = [["翠苑", "1栋", "", 101, "=1+2", 13800000001, "业主"],
                              ["翠苑", "2栋", "", 201, "=1+2", 13800000001, "家属"],  # her second unit
                              ["翠苑", "2栋", "", 202, "李", 123, "业主"]]

    job = world.import_file(as_xlsx(lines), files.XLSX_TYPE)

    assert (job.format, job.created, job.updated, job.failed) == ("xlsx", 1, 1, 1)
    [resident] = world.desk.repo.all_residents(ADMIN)
    assert (resident.name, resident.phone) == ("'=1+2", "13800000001")
    assert [(u["label"], u["relation"]) for u in resident.units] == [("1栋101", "owner"), ("2栋201", "family")]


def test_the_same_file_again_creates_nothing_and_duplicates_nothing(world: World):
    data = as_csv(rows(25, bad=(7,)))
    world.import_file(data)
    stored = world.desk.repo.all_residents(ADMIN)

    again = world.import_file(data)

    assert (again.created, again.updated, again.unchanged, again.failed) == (0, 0, 24, 1)
    assert world.desk.repo.all_residents(ADMIN) == stored


def test_a_redelivered_chunk_counts_nothing_twice(world: World):
    world.start(as_csv(rows(25)))
    worker = world.worker()
    worker.handle(world.queue.pop(0), NOW)  # the file is read; chunk 0 is queued
    chunk = world.queue.pop(0)
    worker.handle(chunk, NOW)
    job_id = chunk["import_id"]
    after_once = world.store.get(ADMIN, job_id)

    worker.handle(chunk, NOW)  # SQS delivers it again

    again = world.store.get(ADMIN, job_id)
    assert (again.created, again.processed_rows, again.applied_through) == (10, 10, 11) == (
        after_once.created, after_once.processed_rows, after_once.applied_through)
    assert [m["chunk"] for m in world.queue] == [1, 1]  # the next chunk, asked for twice: harmless
    world.run()
    assert world.jobs.get(ADMIN, job_id).created == 25 and len(world.desk.repo.all_residents(ADMIN)) == 25


@pytest.mark.parametrize("crash_at", [1, 2, 3])
def test_a_chunk_that_died_half_way_goes_on_after_its_last_committed_row(world: World, crash_at: int):
    lines = rows(25, bad=(2,))
    lines[4][5] = lines[8][5] = lines[1][5]  # rows 6 and 10 have row 3's phone: her second and third units
    world.start(as_csv(lines))
    world.worker().handle(world.queue.pop(0), NOW)
    chunk = world.queue.pop(0)
    # a resident is written once per transaction, so the first chunk commits in three
    crashing = world.worker(CrashAfter(world.desk.store.unit_of_work, crash_at))

    with pytest.raises(RuntimeError):
        crashing.handle(chunk, NOW)
    world.queue.append(chunk)  # back on the queue after its visibility timeout
    world.run()

    job = world.jobs.get(ADMIN, chunk["import_id"])
    assert (job.created, job.updated, job.unchanged, job.failed, job.processed_rows) == (22, 2, 0, 1, 25)
    residents = world.desk.repo.all_residents(ADMIN)
    assert len(residents) == 22 and len({r.phone for r in residents}) == 22
    assert sorted(len(r.units) for r in residents)[-1] == 3
    assert len(world.desk.repo.all_units(ADMIN, residents[0].units[0]["community_id"])) == 24


def test_a_file_that_cannot_be_read_fails_the_job_and_says_why(world: World):
    job = world.import_file("小区,姓名\n翠苑,陈\n".encode())

    assert (job.status, job.failure.code, job.total_rows) == ("failed", "missing_columns", None)
    assert "building, number, phone" in job.failure.message
    assert world.desk.store.events[-1].type == "import.failed"
    with pytest.raises(ConflictError) as raised:
        world.jobs.error_file(ADMIN, job.id)
    assert raised.value.code == "import_not_finished"


def test_a_job_whose_every_row_applied_has_no_error_file(world: World):
    job = world.import_file(as_csv(rows(3)))

    assert (job.failed, job.errors, job.errors_url) == (0, [], None)
    with pytest.raises(ConflictError) as raised:
        world.jobs.error_file(ADMIN, job.id)
    assert raised.value.code == "no_failed_rows"


def test_an_upload_slot_pins_the_key_the_type_and_the_size(world: World):
    slot = world.jobs.new_upload(ADMIN, ImportUploadIn(content_type=files.XLSX_TYPE))

    assert slot.fields["key"] == f"t/tnt_1/imports/{slot.id}" and slot.max_bytes == 20 * 1024 * 1024
    with pytest.raises(UploadRefusedError):
        world.files.upload({**slot.fields, "Content-Type": files.CSV_TYPE}, b"x")
    with pytest.raises(UploadRefusedError):
        world.files.upload(slot.fields, b"x" * (files.MAX_FILE_BYTES + 1))


def test_only_an_uploaded_file_of_the_tenant_can_be_imported(world: World):
    foreign = world.upload(as_csv(rows(1)), ctx=OTHER)

    for upload_id in (foreign, "upl_0000000000000000000000000"):
        with pytest.raises(ValidationFailedError) as raised:
            world.jobs.start(ADMIN, ImportJobIn(upload_id=upload_id), None, NOW)
        assert raised.value.code == "unknown_upload"


def test_an_idempotency_key_starts_one_job(world: World):
    upload_id = world.upload(as_csv(rows(1)))

    first = world.jobs.start(ADMIN, ImportJobIn(upload_id=upload_id), "key-1", NOW)
    again = world.jobs.start(ADMIN, ImportJobIn(upload_id=upload_id), "key-1", NOW)

    assert again.id == first.id and len(world.store.jobs) == 1
    with pytest.raises(ValidationFailedError) as raised:
        world.jobs.start(ADMIN, ImportJobIn(upload_id=upload_id, filename="other.csv"), "key-1", NOW)
    assert raised.value.code == "idempotency_key_reused"


def test_another_tenants_job_is_not_found(world: World):
    job = world.import_file(as_csv(rows(2, bad=(1,))))

    for read in (world.jobs.get, world.jobs.error_file):
        with pytest.raises(NotFoundError):
            read(OTHER, job.id)
    assert world.jobs.list_jobs(OTHER, 25, None) == ([], None)


def test_jobs_list_newest_first_in_pages(world: World):
    started = []
    for _ in range(3):  # job ids are time-ordered to the millisecond: three in one millisecond have no order
        started.append(world.import_file(as_csv(rows(1))).id)
        time.sleep(0.002)

    first, cursor = world.jobs.list_jobs(ADMIN, 2, None)
    rest, end = world.jobs.list_jobs(ADMIN, 2, cursor)

    assert [j.id for j in first + rest] == started[::-1] and end is None
    assert all(j.errors == [] for j in first + rest)


def test_the_small_csv_route_and_a_job_apply_a_file_alike(world: World):
    data = as_csv(rows(6, bad=(2,)))
    twin = ResidentDesk.empty()
    twin.places.create_community(ADMIN, CommunityIn(name="翠苑"), NOW)

    report = twin.residents.import_csv(ADMIN, data, NOW)
    job = world.import_file(data)

    assert (report.created, report.updated, report.unchanged, len(report.errors)) == (
        job.created, job.updated, job.unchanged, job.failed) == (5, 0, 0, 1)
    assert [(e.line, e.field, e.message) for e in report.errors] == [(e.row, e.field, e.message) for e in job.errors]

    def shape(desk: ResidentDesk) -> list[tuple[str, str, list[str]]]:
        return sorted((r.phone, r.name, [u["label"] for u in r.units]) for r in desk.repo.all_residents(ADMIN))

    assert shape(twin) == shape(world.desk)


def test_the_person_who_started_a_job_finds_a_notice_in_their_inbox_once(world: World):
    filed: list[tuple[str, Any]] = []

    class Inbox:
        def file(self, ctx: TenantContext, person_id: str, notification: Any, now: datetime) -> bool:
            filed.append((person_id, notification))
            return True

    new_uow = world.desk.store.unit_of_work
    worker = ImportWorker(world.store, world.files, Roster(world.desk.repo, new_uow), new_uow,
                          lambda message, delay: world.queue.append(message), Inbox(), chunk_rows=CHUNK)
    job = world.start(as_csv(rows(12, bad=(4,))), filename="翠苑.csv")
    world.run(worker)
    last = world.store.get(ADMIN, job.id)
    worker._complete(TenantContext("tnt_1", Principal("system", "imports")), last, NOW)  # a late duplicate: nothing

    [(person, note)] = filed
    assert person == "usr_admin" and note.title == "住户导入完成"
    assert note.body == "翠苑.csv：新增 11，更新 0，未变 0，失败 1"
    assert note.event_type == "import.completed"
