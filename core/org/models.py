"""Organisation models: Region (行政区划), Department (部门), Post (岗位), Person (人员)."""
from __future__ import annotations

import peewee as pw

from core.db import BaseModel, utcnow

LEVELS = ("city", "district", "county", "county_city")


class Region(BaseModel):
    """A node of the administrative tree: the city and its districts and counties.

    ``code`` is the 6-digit administrative division code (e.g. 510100 Chengdu)."""

    code = pw.CharField(max_length=12, unique=True)
    name = pw.CharField(max_length=64)
    level = pw.CharField(max_length=16, default="county")
    parent = pw.ForeignKeyField("self", null=True, backref="children", on_delete="RESTRICT")
    sort = pw.IntegerField(default=0)

    def lineage(self) -> list[Region]:
        """This region and its ancestors, nearest first."""
        out, node, seen = [], self, set()
        while node is not None and node.id not in seen:
            out.append(node)
            seen.add(node.id)
            node = node.parent
        return out

    def __str__(self) -> str:
        return self.name


class Department(BaseModel):
    """A department (部门) of a region's government or party organs.

    ``is_supervision_office`` marks the region's supervision office (纪检监察/电子监察室),
    to which alerts escalate."""

    region = pw.ForeignKeyField(Region, backref="departments", on_delete="RESTRICT")
    code = pw.CharField(max_length=16)
    name = pw.CharField(max_length=100)
    short_name = pw.CharField(max_length=32, default="")
    is_supervision_office = pw.BooleanField(default=False)
    sort = pw.IntegerField(default=0)

    class Meta:
        indexes = ((("region", "code"), True),)

    def __str__(self) -> str:
        return self.name


class Post(BaseModel):
    """A post (岗位) in a department; ``risk_level`` (1 low … 3 high) is used by plugins.

    ``is_head`` marks the department head's post."""

    department = pw.ForeignKeyField(Department, backref="posts", on_delete="RESTRICT")
    title = pw.CharField(max_length=100)
    risk_level = pw.SmallIntegerField(default=1)
    is_head = pw.BooleanField(default=False)

    def __str__(self) -> str:
        return self.title


class Person(BaseModel):
    """A person (人员) who holds posts over dated periods."""

    name = pw.CharField(max_length=64)
    phone = pw.CharField(max_length=20, default="")
    email = pw.CharField(max_length=120, default="")
    region = pw.ForeignKeyField(Region, backref="people", on_delete="RESTRICT")
    created_at = pw.DateTimeField(default=utcnow)

    def __str__(self) -> str:
        return self.name


class PostHolding(BaseModel):
    """Person P holds post X from ``start`` until ``end`` (open-ended when null)."""

    person = pw.ForeignKeyField(Person, backref="holdings", on_delete="CASCADE")
    post = pw.ForeignKeyField(Post, backref="holdings", on_delete="CASCADE")
    start = pw.DateField()
    end = pw.DateField(null=True)

    class Meta:
        indexes = ((("post", "end"), False),)
