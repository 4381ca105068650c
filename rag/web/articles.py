"""The article manager's HTTP routes, admin-only (rag.web.admin): list, upload, jobs, delete, re-ingest.

    GET    /api/articles                 {"articles": [{doc_id, title, date, publisher, author, source, file,
                                          uploaded, chunks, ingested_at}], "total"}   (?q= &publisher= &date_from=
                                          &date_to= &offset= &limit=)
    POST   /api/articles                 multipart/form-data, one or more `files` fields -> 202 {"job", "uploads"}
                                          (Location: the job); 400 {"error", "uploads"} when no file is accepted
    GET    /api/articles/jobs/{id}       202 {"job"} while queued or running; 200 {"job"} with job.result when done
    GET    /api/articles/jobs            the latest jobs
    POST   /api/articles/reingest        202 {"job"}: the corpus folders and the uploads folder read again
    DELETE /api/articles/{doc_id}        200 {"deleted", "file"}; 404 unknown; 409 while an ingest runs

Uploads are checked and staged in the request (fast: sizes, type by content, zip safety); reading,
placing and ingesting run as a background job. See rag.inbox for where files go and why an upload
can never replace or delete another folder's article.
"""

from __future__ import annotations

from dataclasses import asdict
from pathlib import Path
from typing import Any

import anyio
from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import FileResponse, JSONResponse, Response
from starlette.datastructures import UploadFile
from starlette.formparsers import MultiPartException

from rag.config import Settings
from rag.filters import FilterError, make_filters, matches
from rag.inbox import Admitted, Inbox, InboxError, Received
from rag.ingest import IngestBusyError, IngestError
from rag.store import StoreError
from rag.types import ArticleInfo, IngestReport
from rag.uploads import Upload
from rag.web.admin import AdminGuard
from rag.web.api import ApiError
from rag.web.errors import error_payload
from rag.web.jobs import JobFailed, JobRunner, Step
from rag.web.service import ChatService

STATIC_DIR = Path(__file__).resolve().parent / "static"
PAGE_ASSETS = {"articles.css": "text/css", "articles.js": "text/javascript"}
MAX_FORM_FILES = 1000


def build_articles_router(admin: AdminGuard, service: ChatService, settings: Settings, jobs: JobRunner) -> APIRouter:
    router = APIRouter(prefix="/api/articles", dependencies=[Depends(admin)])

    def inbox() -> Inbox:
        if not service.ready or service.error:
            raise ApiError(503, f"not ready: {service.error or 'the store is still loading'}", "unavailable")
        return Inbox(settings, service.pipeline())

    @router.get("")
    async def list_articles(
        q: str = Query("", max_length=200),
        publisher: list[str] | None = Query(None, max_length=50),
        date_from: str | None = Query(None, max_length=10),
        date_to: str | None = Query(None, max_length=10),
        offset: int = Query(0, ge=0),
        limit: int = Query(1000, ge=1, le=5000),
    ) -> dict[str, Any]:
        box = inbox()
        try:
            filters = make_filters(date_from, date_to, publisher)
        except FilterError as exc:
            raise ApiError(400, str(exc)) from exc
        found = await anyio.to_thread.run_sync(service.articles)
        needle = q.strip().lower()
        chosen = [a for a in found if matches(filters, a.doc_id, a.date, a.publisher)
                  and (not needle or needle in " ".join((a.doc_id, a.title, a.publisher or "", a.author or "")).lower())]
        return {"total": len(chosen), "articles": [_article_dict(a, box) for a in chosen[offset:offset + limit]]}

    @router.post("")
    async def upload(request: Request) -> JSONResponse:
        box = inbox()
        received = await _receive(request, box)
        if not received.report.accepted:
            first = received.report.rejected[0].message if received.report.rejected else "no files"
            payload = error_payload(400, first, "upload_rejected") | {"uploads": received.report.as_dict()}
            return JSONResponse(payload, status_code=400)

        def work(step: Step) -> dict[str, Any]:
            step.stage("기사를 읽고 색인하는 중")  # the whole ingest: reading, chunking, embedding
            return _admitted_dict(_run_ingest(lambda: box.admit(received, step.articles, step.stage)), box)

        job = jobs.submit("upload", work)
        return _accepted(job.as_dict(), {"uploads": received.report.as_dict()})

    @router.post("/reingest")
    async def reingest() -> JSONResponse:
        box = inbox()

        def work(step: Step) -> dict[str, Any]:
            step.stage("다시 색인하는 중")
            return {"ingest": _report_dict(_run_ingest(lambda: box.reingest(step.articles, step.stage)), box)}

        return _accepted(jobs.submit("reingest", work).as_dict())

    @router.get("/jobs")
    async def recent_jobs() -> dict[str, Any]:
        return {"jobs": [j.as_dict() for j in jobs.recent()]}

    @router.get("/jobs/{job_id}")
    async def job_status(job_id: str) -> JSONResponse:
        job = jobs.get(job_id)
        if job is None:
            raise ApiError(404, f"no job {job_id!r} (jobs are kept in memory until the server restarts)", "not_found")
        return JSONResponse({"job": job.as_dict()}, status_code=200 if job.finished else 202)

    @router.delete("/{doc_id:path}")
    async def delete(doc_id: str) -> dict[str, Any]:
        box = inbox()
        info = next((a for a in await anyio.to_thread.run_sync(service.articles) if a.doc_id == doc_id), None)
        if info is None:
            raise ApiError(404, f"no article {doc_id!r}", "not_found")
        running = jobs.active()
        if running is not None:
            raise ApiError(409, f"an ingest job is running ({running.id}); delete when it has finished", "busy")
        try:
            deleted = await anyio.to_thread.run_sync(box.delete, doc_id, info)
        except IngestBusyError as exc:
            raise ApiError(409, str(exc), "busy") from exc
        except KeyError as exc:
            raise ApiError(404, f"no article {doc_id!r}", "not_found") from exc
        except (InboxError, OSError) as exc:  # the article is gone from the store; its file could not be changed
            raise ApiError(500, f"{doc_id!r} deleted from the store, but its file was not changed: {exc}",
                           "server_error") from exc
        return {"deleted": deleted.doc_id, "file": deleted.file, "records_left_in_file": deleted.records_left}

    return router


def build_articles_page_router() -> APIRouter:
    """The manager page the Articles tab frames: static, no data (everything comes from the API)."""
    router = APIRouter(include_in_schema=False)

    @router.get("/articles")
    async def page() -> FileResponse:
        return FileResponse(STATIC_DIR / "articles.html", media_type="text/html; charset=utf-8")

    @router.get("/articles/static/{name}")
    async def asset(name: str) -> Response:
        if name not in PAGE_ASSETS:  # a fixed list: no path from the URL ever reaches the disk
            return Response(status_code=404)
        return FileResponse(STATIC_DIR / name, media_type=f"{PAGE_ASSETS[name]}; charset=utf-8")

    return router


async def _receive(request: Request, box: Inbox) -> Received:
    """The multipart body's `files`, checked and staged (rag.uploads); the spooled parts are closed after."""
    try:
        form = await request.form(max_files=MAX_FORM_FILES, max_fields=20)
    except MultiPartException as exc:
        raise ApiError(400, f"not a multipart upload: {exc.message}") from exc
    try:
        files = [f for f in form.getlist("files") if isinstance(f, UploadFile)]
        if not files:
            raise ApiError(400, "no files: send one or more `files` fields (multipart/form-data)")
        uploads = [Upload(f.filename or "unnamed", f.file) for f in files]
        return await anyio.to_thread.run_sync(box.receive, uploads)
    finally:
        await form.close()


def _run_ingest(run):
    try:
        return run()
    except (IngestError, InboxError, StoreError) as exc:  # IngestBusyError after store.ingest_wait_s
        raise JobFailed(str(exc)) from exc


def _accepted(job: dict[str, Any], extra: dict[str, Any] | None = None) -> JSONResponse:
    headers = {"Location": f"/api/articles/jobs/{job['id']}"}
    return JSONResponse({"job": job} | (extra or {}), status_code=202, headers=headers)


def _article_dict(info: ArticleInfo, box: Inbox) -> dict[str, Any]:
    data = asdict(info)
    data.pop("content_hash", None)
    data["uploaded"] = box.owns(info)
    data["file"] = box.display_path(info.source) if data["uploaded"] else ""
    return data


def _report_dict(report: IngestReport | None, box: Inbox) -> dict[str, Any]:
    if report is None:
        return {}
    data = asdict(report)
    data["skipped"] = [{"file": box.display_path(f), "reason": why} for f, why in report.skipped]
    return data


def _admitted_dict(admitted: Admitted, box: Inbox) -> dict[str, Any]:
    return {"files": [asdict(f) for f in admitted.files], "ingest": _report_dict(admitted.ingest, box)}
