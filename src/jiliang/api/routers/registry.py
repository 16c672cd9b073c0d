"""Regions, the catalogue, organisations, measurement standards and authorisations."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Query

from jiliang.api.deps import Limit, Offset, OptionalPrincipalDep, PlatformDep, PrincipalDep
from jiliang.api.schemas.common import ERRORS, Page, items_of, page_of
from jiliang.api.schemas.registry import (
    AuthorisationIn,
    AuthorisationOut,
    CatalogueItemDetailOut,
    CatalogueItemOut,
    OrganisationIn,
    OrganisationOut,
    OrganisationPatch,
    RegionIn,
    RegionOut,
    StandardDetailOut,
    StandardIn,
    StandardOut,
)
from jiliang.domain.catalogue import RegulatoryMode
from jiliang.domain.instruments import OrganisationKind
from jiliang.domain.standards import StandardKind
from jiliang.services import catalogue, organisations, standards
from jiliang.services.common import Page as ServicePage

router = APIRouter(prefix="/api/v1", responses=ERRORS)

REGIONS, CATALOGUE, ORGS, STANDARDS = (
    "regions 行政区划",
    "catalogue 目录",
    "organisations 单位",
    "standards 计量标准",
)


@router.get("/regions", tags=[REGIONS], summary="行政区划列表 / List regions")
def list_regions(
    platform: PlatformDep,
    principal: OptionalPrincipalDep,
    under: Annotated[str | None, Query(description="只列此区划及其下级 / only this region's subtree")] = None,
) -> list[RegionOut]:
    return items_of(organisations.list_regions(platform, principal, under), RegionOut)


@router.get("/regions/{code}", tags=[REGIONS], summary="查看行政区划 / Get a region")
def get_region(code: str, platform: PlatformDep, principal: OptionalPrincipalDep) -> RegionOut:
    return RegionOut.model_validate(organisations.get_region(platform, principal, code))


@router.post("/regions", status_code=201, tags=[REGIONS], summary="新增行政区划（管理员）/ Add a region")
def create_region(body: RegionIn, platform: PlatformDep, principal: PrincipalDep) -> RegionOut:
    region = organisations.add_region(platform, principal, body.code, body.name_zh, body.name_en)
    return RegionOut.model_validate(region)


@router.get("/catalogue/items", tags=[CATALOGUE], summary="强制管理计量器具目录 / List catalogue items")
def list_catalogue_items(
    platform: PlatformDep,
    mode: Annotated[RegulatoryMode | None, Query(description="监管方式 / regulatory mode")] = None,
    level1: Annotated[int | None, Query(ge=1, description="一级目录序号 / first-level number")] = None,
    version: Annotated[str | None, Query(description="目录版本（默认现行）/ version, default active")] = None,
    offset: Offset = 0,
    limit: Limit = 100,
) -> Page[CatalogueItemOut]:
    found = catalogue.find_items(platform, mode=mode.value if mode else None, level1=level1, version=version)
    page = ServicePage(items=found[offset : offset + limit], total=len(found), offset=offset, limit=limit)
    return page_of(page, CatalogueItemOut)


@router.get("/catalogue/items/{item_code}", tags=[CATALOGUE], summary="目录项及其检定规则 / Get an item")
def get_catalogue_item(
    item_code: str,
    platform: PlatformDep,
    version: Annotated[str | None, Query(description="目录版本（默认现行）/ version, default active")] = None,
) -> CatalogueItemDetailOut:
    return CatalogueItemDetailOut.model_validate(catalogue.get_item(platform, item_code, version))


@router.get("/organisations", tags=[ORGS], summary="单位列表 / List organisations")
def list_organisations(
    platform: PlatformDep,
    principal: PrincipalDep,
    region_code: Annotated[str | None, Query(description="区划（含下级）/ region with its subtree")] = None,
    kind: Annotated[OrganisationKind | None, Query(description="单位类型 / kind")] = None,
    q: Annotated[str | None, Query(description="名称包含 / name contains")] = None,
    offset: Offset = 0,
    limit: Limit = 50,
) -> Page[OrganisationOut]:
    page = organisations.list_organisations(
        platform,
        principal,
        region_code=region_code,
        kind=kind.value if kind else None,
        q=q,
        offset=offset,
        limit=limit,
    )
    return page_of(page, OrganisationOut)


@router.get("/organisations/{org_id}", tags=[ORGS], summary="查看单位 / Get an organisation")
def get_organisation(org_id: int, platform: PlatformDep, principal: PrincipalDep) -> OrganisationOut:
    return OrganisationOut.model_validate(organisations.get_organisation(platform, principal, org_id))


@router.post("/organisations", status_code=201, tags=[ORGS], summary="登记单位 / Register an organisation")
def create_organisation(
    body: OrganisationIn, platform: PlatformDep, principal: PrincipalDep
) -> OrganisationOut:
    org = organisations.add_organisation(platform, principal, **body.model_dump(mode="json"))
    return OrganisationOut.model_validate(org)


@router.patch("/organisations/{org_id}", tags=[ORGS], summary="修改单位 / Update an organisation")
def update_organisation(
    org_id: int, body: OrganisationPatch, platform: PlatformDep, principal: PrincipalDep
) -> OrganisationOut:
    changes = body.model_dump(mode="json", exclude_unset=True)
    org = organisations.update_organisation(platform, principal, org_id, changes)
    return OrganisationOut.model_validate(org)


def _standard_detail(platform: PlatformDep, std: object) -> StandardDetailOut:
    out = StandardOut.model_validate(std)
    return StandardDetailOut(**out.model_dump(), item_codes=standards.standard_items(platform, out.id))


@router.get("/standards", tags=[STANDARDS], summary="计量标准列表 / List measurement standards")
def list_standards(
    platform: PlatformDep,
    principal: PrincipalDep,
    region_code: Annotated[str | None, Query(description="区划（含下级）/ region with its subtree")] = None,
    kind: Annotated[StandardKind | None, Query(description="类别 / kind")] = None,
    expiring_before: Annotated[
        date | None, Query(description="考核证书在此日前到期 / certificate ends before this date")
    ] = None,
    offset: Offset = 0,
    limit: Limit = 50,
) -> Page[StandardOut]:
    page = standards.list_standards(
        platform,
        principal,
        region_code=region_code,
        kind=kind.value if kind else None,
        expiring_before=expiring_before,
        offset=offset,
        limit=limit,
    )
    return page_of(page, StandardOut)


# ":int" so that /standards/expiring (indicators router) is not taken for an id.
@router.get("/standards/{standard_id:int}", tags=[STANDARDS], summary="查看计量标准 / Get a standard")
def get_standard(standard_id: int, platform: PlatformDep, principal: PrincipalDep) -> StandardDetailOut:
    return _standard_detail(platform, standards.get_standard(platform, principal, standard_id))


@router.post("/standards", status_code=201, tags=[STANDARDS], summary="登记计量标准 / Register a standard")
def create_standard(body: StandardIn, platform: PlatformDep, principal: PrincipalDep) -> StandardDetailOut:
    std = standards.add_standard(platform, principal, body.model_dump(mode="json"))
    return _standard_detail(platform, std)


@router.get("/authorisations", tags=[STANDARDS], summary="授权列表 / List institutions' authorisations")
def list_authorisations(
    platform: PlatformDep,
    principal: PrincipalDep,
    institution_id: Annotated[int | None, Query(description="机构 / institution")] = None,
    offset: Offset = 0,
    limit: Limit = 50,
) -> Page[AuthorisationOut]:
    page = standards.list_authorisations(platform, principal, institution_id, offset, limit)
    return page_of(page, AuthorisationOut)


@router.post("/authorisations", status_code=201, tags=[STANDARDS], summary="授权机构检定某目录项 / Authorise")
def create_authorisation(
    body: AuthorisationIn, platform: PlatformDep, principal: PrincipalDep
) -> AuthorisationOut:
    return AuthorisationOut.model_validate(
        standards.authorise(platform, principal, body.model_dump(mode="json"))
    )
