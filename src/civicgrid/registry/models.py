"""The block-data registry (DESIGN §5).

Large tables carry ``district_code`` (the governance district, for partitioning and scoping)
and ``grid_code`` (the current grid, for jurisdiction scoping below district level: grid codes
begin with their community's and street's codes). A building's and a house's *code* is frozen
when issued; the current grid link may change when grids are re-drawn.

``import_run``/``import_row`` remember which import last wrote a row and from which line, so
a second line with the same key in one file is reported as a duplicate without holding every
key of a 20-million-row file in memory.
"""

from __future__ import annotations

from django.db import models

from civicgrid.registry import formats


def _choices(mapping: dict[str, str]) -> list[tuple[str, str]]:
    return list(mapping.items())


class RegistryRow(models.Model):
    district_code = models.CharField("所属区", max_length=6)
    grid_code = models.CharField("网格", max_length=14, blank=True)
    import_run = models.BigIntegerField(null=True, blank=True, editable=False)
    import_row = models.BigIntegerField(null=True, blank=True, editable=False)
    created_at = models.DateTimeField("登记时间", auto_now_add=True)
    updated_at = models.DateTimeField("更新时间", auto_now=True)

    class Meta:
        abstract = True
        # One index serves every jurisdiction: a district is an equality on district_code, a
        # street or community adds a range on grid_code (grid codes begin with theirs).
        indexes = [
            models.Index(fields=["district_code", "grid_code"], name="%(class)s_place_idx"),
        ]

    @property
    def audit_region_path(self) -> str:
        from civicgrid.geo.models import Region

        path = Region.objects.filter(code=self.grid_code).values_list("path", flat=True).first()
        return path or ""


class Building(RegistryRow):
    code = models.CharField("楼栋编码", max_length=19)
    name = models.CharField("名称", max_length=100, blank=True)
    address = models.CharField("标准地址", max_length=200)
    lon = models.FloatField("经度")
    lat = models.FloatField("纬度")
    use = models.CharField("用途", max_length=16, choices=_choices(formats.BUILDING_USES))
    form = models.CharField("建筑形态", max_length=16, choices=_choices(formats.BUILDING_FORMS))
    floors = models.PositiveSmallIntegerField("层数")
    year_built = models.PositiveSmallIntegerField("建成年份", null=True, blank=True)
    safety_rating = models.CharField(
        "安全等级",
        max_length=1,
        blank=True,
        choices=_choices(formats.SAFETY_RATINGS),
        help_text="C、D 级为危房",
    )
    fire_facilities = models.CharField("消防设施", max_length=200, blank=True)

    class Meta(RegistryRow.Meta):
        # constraints, not unique=True: PostgreSQL would add a second (LIKE) index to each
        constraints = [models.UniqueConstraint(fields=["code"], name="building_code_unique")]
        indexes = [
            *RegistryRow.Meta.indexes,
            models.Index(fields=["address"], name="building_address_idx"),
        ]
        verbose_name = "楼栋"
        verbose_name_plural = "楼栋"

    def __str__(self) -> str:
        return f"{self.name or self.address}（{self.code}）"


class Person(RegistryRow):
    """A resident. The ID number is stored only encrypted (``id_enc``) with a keyed hash for
    exact lookup (``id_hash``) and a masked form for display (``id_masked``)."""

    id_hash = models.CharField("身份证号哈希", max_length=64)
    id_enc = models.CharField("身份证号（加密）", max_length=120)
    id_masked = models.CharField("身份证号（脱敏）", max_length=18)
    name = models.CharField("姓名", max_length=64, blank=True)
    phone = models.CharField("电话", max_length=20, blank=True)
    sex = models.CharField("性别", max_length=1, choices=[("M", "男"), ("F", "女")])
    birth_date = models.DateField("出生日期")
    household_type = models.CharField(
        "户籍类型", max_length=8, blank=True, choices=_choices(formats.HOUSEHOLD_TYPES)
    )
    # ",elderly_alone,disabled," — the wrapping commas make one tag a plain substring match on
    # every database.
    tags = models.CharField("关怀标签", max_length=200, blank=True)

    class Meta(RegistryRow.Meta):
        constraints = [models.UniqueConstraint(fields=["id_hash"], name="person_id_hash_unique")]
        verbose_name = "人口"
        verbose_name_plural = "人口"
        permissions = [("reveal_person", "查看完整个人信息（需说明理由并留痕）")]

    def __str__(self) -> str:
        return self.id_masked

    @property
    def tag_list(self) -> list[str]:
        return [t for t in self.tags.split(",") if t]

    @property
    def number_only(self) -> bool:
        """Known by ID number alone (a landlord entered on a rental form): no name and kept by
        no jurisdiction. Such a record is completed by the first home registered for it; a
        person imported without a house has a name and is never taken over this way."""
        return not self.name and not self.grid_code


class Organisation(RegistryRow):
    credit_code = models.CharField("统一社会信用代码", max_length=18)
    credit_warning = models.CharField(
        "代码校验提示",
        max_length=100,
        blank=True,
        help_text="校验位不符的早期代码可合法存在；由数据管理员确认",
    )
    name = models.CharField("名称", max_length=200, blank=True)
    kind = models.CharField("类型", max_length=16, blank=True, choices=_choices(formats.ORG_KINDS))
    industry = models.CharField("行业", max_length=64, blank=True)
    legal_rep = models.CharField("法定代表人", max_length=64, blank=True)
    house = models.ForeignKey(
        "House",
        verbose_name="经营场所",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="organisations",
    )
    staff = models.PositiveIntegerField("从业人数", null=True, blank=True)

    class Meta(RegistryRow.Meta):
        constraints = [
            models.UniqueConstraint(fields=["credit_code"], name="organisation_credit_unique")
        ]
        verbose_name = "法人"
        verbose_name_plural = "法人"

    def __str__(self) -> str:
        return f"{self.name}（{self.credit_code}）"


class House(RegistryRow):
    code = models.CharField("房屋编码", max_length=25)
    # no index of its own: house_room_unique (building, room) begins with it and serves it
    building = models.ForeignKey(
        Building,
        verbose_name="楼栋",
        on_delete=models.PROTECT,
        related_name="houses",
        db_index=False,
    )
    floor = models.SmallIntegerField("楼层")
    room = models.CharField("房号", max_length=16)
    area = models.FloatField("面积 (m²)", null=True, blank=True)
    use = models.CharField("用途", max_length=16, choices=_choices(formats.HOUSE_USES))
    owner_person = models.ForeignKey(
        Person,
        verbose_name="业主（个人）",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="owned_houses",
    )
    owner_org = models.ForeignKey(
        Organisation,
        verbose_name="业主（单位）",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="owned_houses",
    )

    class Meta(RegistryRow.Meta):
        verbose_name = "房屋"
        verbose_name_plural = "房屋"
        constraints = [
            models.UniqueConstraint(fields=["code"], name="house_code_unique"),
            models.UniqueConstraint(fields=["building", "room"], name="house_room_unique"),
        ]

    def __str__(self) -> str:
        return self.code


class Residence(RegistryRow):
    """A person living in a house from ``since`` until ``until`` (open while null)."""

    SOURCES = [
        ("grid_visit", "网格员走访"),
        ("qr", "扫码自主申报"),
        ("import", "批量导入"),
        ("api", "接口登记"),
    ]

    person = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="residences")
    house = models.ForeignKey(House, on_delete=models.CASCADE, related_name="residences")
    relation = models.CharField("居住关系", max_length=16, choices=_choices(formats.RELATIONS))
    source = models.CharField("来源", max_length=16, choices=SOURCES, default="import")
    since = models.DateField("起始日期", null=True, blank=True)
    until = models.DateField("终止日期", null=True, blank=True)
    verified = models.BooleanField("已核实", default=False)

    class Meta(RegistryRow.Meta):
        verbose_name = "居住登记"
        verbose_name_plural = "居住登记"
        constraints = [
            models.UniqueConstraint(
                fields=["person", "house"],
                condition=models.Q(until=None),
                name="residence_open_unique",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.person_id}@{self.house_id}"


class Place(RegistryRow):
    """A risk point or facility: slope, low-lying point, construction site, billboard …"""

    key = models.CharField(
        "键", max_length=40, help_text="类型、名称与坐标的摘要，用于重复导入时去重"
    )
    kind = models.CharField("类型", max_length=16, choices=_choices(formats.PLACE_KINDS))
    name = models.CharField("名称", max_length=100)
    lon = models.FloatField("经度")
    lat = models.FloatField("纬度")
    owner = models.CharField("责任单位", max_length=100, blank=True)
    note = models.CharField("备注", max_length=500, blank=True)

    class Meta(RegistryRow.Meta):
        constraints = [models.UniqueConstraint(fields=["key"], name="place_key_unique")]
        verbose_name = "风险点位"
        verbose_name_plural = "风险点位"

    def __str__(self) -> str:
        return self.name


class CodeSequence(models.Model):
    """The last sequence number issued under a prefix (a grid for buildings, a building for
    rooms), so new codes never reuse one even after rows were deleted."""

    prefix = models.CharField(max_length=19, primary_key=True)
    last = models.PositiveIntegerField(default=0)

    def __str__(self) -> str:
        return f"{self.prefix}:{self.last}"


class ImportRun(models.Model):
    """One ``civicgrid import`` of a file: what came in, what was refused."""

    kind = models.CharField("类型", max_length=16)
    file_name = models.CharField("文件", max_length=255)
    actor = models.CharField("操作人", max_length=150)
    started_at = models.DateTimeField("开始", auto_now_add=True)
    finished_at = models.DateTimeField("结束", null=True, blank=True)
    rows = models.BigIntegerField("行数", default=0)
    written = models.BigIntegerField("写入", default=0)
    rejected = models.BigIntegerField("拒绝", default=0)
    report = models.CharField("错误报告", max_length=500, blank=True)

    class Meta:
        verbose_name = "导入记录"
        verbose_name_plural = "导入记录"

    def __str__(self) -> str:
        return f"{self.kind} {self.file_name}"
