"""
A class's participation scores for its teachers: the rubric, the gradebook
(as a page and as CSV), and each student's scores with the teacher's
overrides. How a score is worked out lives in scores.py.
"""

from dataclasses import dataclass
from decimal import Decimal

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.validators import MinValueValidator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.text import slugify
from django.views.decorators.http import require_http_methods, require_safe

from . import scores
from .classes import get_classroom_for_instructor, get_classroom_for_staff
from .exports import _csv_response, cell
from .models import Classroom, LmsLink, Membership, Reading, Rubric, Score


class RubricForm(forms.ModelForm):
    class Meta:
        model = Rubric
        fields = [
            "annotation_points", "annotations_counted", "min_annotation_words",
            "reply_points", "replies_counted", "spread_points", "engagement_points",
            "late_factor", "visible_to_students",
        ]  # fmt: skip

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        for name in ("annotation_points", "reply_points", "spread_points", "engagement_points"):
            self.fields[name].validators.append(MinValueValidator(Decimal(0)))
            self.fields[name].widget.attrs["min"] = "0"
        self.fields["late_factor"].widget.attrs.update(min="0", max="1", step="0.05")

    def clean_late_factor(self) -> Decimal:
        late_factor = self.cleaned_data["late_factor"]
        if not Decimal(0) <= late_factor <= Decimal(1):
            raise forms.ValidationError(
                "Give a share between 0 (late posts earn nothing) and 1 (they count in full)."
            )
        return late_factor


class OverrideForm(forms.Form):
    reading = forms.IntegerField(widget=forms.HiddenInput)
    points = forms.DecimalField(
        label="Score to give instead",
        required=False,
        min_value=0,
        max_digits=6,
        decimal_places=2,
        help_text="Leave empty to use the rubric's score again.",
    )
    comment = forms.CharField(
        label="Private comment",
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        max_length=2000,
        help_text="Only the class's instructors and teaching assistants see it.",
    )


def _instructs(role: str) -> bool:
    """Whether a member of the class's staff is one of its instructors (or a superuser)."""
    return role != Membership.Role.ASSISTANT


def _readings(classroom: Classroom) -> list[Reading]:
    return list(classroom.readings.select_related("classroom", "document__current_revision"))


@require_http_methods(["GET", "POST"])
@login_required
def rubric(request: HttpRequest, class_slug: str) -> HttpResponse:
    """The class's rubric: instructors change it, teaching assistants read it."""
    classroom, role = get_classroom_for_staff(request, class_slug)
    instructs = _instructs(role)
    current = scores.rubric_for(classroom)
    rule = scores.describe(current)  # as saved, before a refused form changes the instance
    form = None
    if instructs:
        form = RubricForm(request.POST if request.method == "POST" else None, instance=current)
    elif request.method == "POST":
        get_classroom_for_instructor(request, class_slug)  # says why, with a 403
    if request.method == "POST" and form.is_valid():
        form.save()
        scores.recompute_class(classroom)
        messages.success(
            request, "The rubric is saved. Every score of the class is being worked out again."
        )
        return redirect("class_rubric", class_slug=classroom.slug)
    context = {
        "classroom": classroom,
        "form": form,
        "instructs": instructs,
        "rule": rule,
    }
    status = 400 if form is not None and form.errors else 200
    return render(request, "annotate/rubric.html", context, status=status)


@dataclass(frozen=True, slots=True)
class Cell:
    """One student's score on one reading, as the gradebook shows it."""

    points: Decimal
    override: Decimal | None


def gradebook_rows(classroom: Classroom) -> tuple[list[Reading], list[dict]]:
    """Students × readings, in five queries whatever the class's size."""
    scores.rubric_for(classroom)  # a class scored for the first time is scored whole
    readings = list(classroom.readings.select_related("document"))
    students = list(
        classroom.memberships.filter(role=Membership.Role.STUDENT)
        .select_related("user")
        .order_by("user__display_name", "pk")
    )
    # Plain rows rather than Score instances: a school's class has thousands.
    saved = {
        (reading_id, student_id): Cell(computed if override is None else override, override)
        for reading_id, student_id, computed, override in Score.objects.filter(
            reading__classroom=classroom
        ).values_list("reading_id", "student_id", "computed", "override")
    }
    rows, reading_pks = [], [reading.pk for reading in readings]
    for membership in students:
        cells = [saved.get((reading_pk, membership.user_id)) for reading_pk in reading_pks]
        total = sum((score.points for score in cells if score), start=Decimal(0))
        rows.append({"membership": membership, "cells": cells, "total": total})
    return readings, rows


@require_safe
@login_required
def gradebook(request: HttpRequest, class_slug: str) -> HttpResponse:
    classroom, role = get_classroom_for_staff(request, class_slug)
    readings, rows = gradebook_rows(classroom)
    in_lms = set(
        LmsLink.objects.filter(reading__classroom=classroom).values_list("reading_id", flat=True)
    )
    context = {
        "classroom": classroom,
        "readings": readings,
        "rows": rows,
        "instructs": _instructs(role),
        "lms_readings": [reading for reading in readings if reading.pk in in_lms],
    }
    return render(request, "annotate/gradebook.html", context)


@require_safe
def gradebook_csv(request: HttpRequest, class_slug: str) -> HttpResponse:
    """One row a student, a column a reading and the total: for instructors (it has emails)."""
    classroom = get_classroom_for_instructor(request, class_slug)
    readings, rows = gradebook_rows(classroom)
    response, writer = _csv_response(f"{slugify(classroom.name)}-gradebook.csv")
    writer.writerow(
        ["student", "email", *(cell(reading.document.title) for reading in readings), "total"]
    )
    for row in rows:
        user = row["membership"].user
        writer.writerow(
            [
                cell(user.display_name),
                cell(user.email),
                *("" if score is None else cell(score.points) for score in row["cells"]),
                cell(row["total"]),
            ]
        )
    return response


def _student_of(classroom: Classroom, membership_id: int) -> Membership:
    membership = (
        classroom.memberships.filter(pk=membership_id, role=Membership.Role.STUDENT)
        .select_related("user")
        .first()
    )
    if membership is None:
        raise Http404("No such student in this class.")
    return membership


def _override(reading: Reading, student, form: OverrideForm, *, by) -> None:
    """The teacher's score and private comment; recomputing never touches them."""
    score = Score.objects.filter(reading=reading, student=student).first()
    if score is None:
        points, breakdown = scores.compute(reading, student)
        score = Score.objects.create(
            reading=reading,
            student=student,
            computed=points,
            breakdown=breakdown,
            computed_at=timezone.now(),
        )
    score.override = form.cleaned_data["points"]
    score.override_comment = form.cleaned_data["comment"] if score.override is not None else ""
    score.overridden_by = by if score.override is not None else None
    score.overridden_at = timezone.now() if score.override is not None else None
    score.save(update_fields=["override", "override_comment", "overridden_by", "overridden_at"])


@require_http_methods(["GET", "POST"])
@login_required
def student_scores(request: HttpRequest, class_slug: str, membership_id: int) -> HttpResponse:
    """One student's score on each reading, how it was counted, and the teacher's overrides."""
    classroom, role = get_classroom_for_staff(request, class_slug)
    instructs = _instructs(role)
    membership = _student_of(classroom, membership_id)
    readings = _readings(classroom)
    failed = None
    if request.method == "POST":
        if not instructs:
            raise PermissionDenied("Only the class's instructors change a score.")
        by_pk = {reading.pk: reading for reading in readings}
        raw = request.POST.get("reading", "")
        reading = by_pk.get(int(raw)) if raw.isdigit() else None
        if reading is None:
            raise Http404("No such reading in this class.")
        form = OverrideForm(request.POST, auto_id=f"id_{reading.pk}_%s")
        if form.is_valid():
            _override(reading, membership.user, form, by=request.user)
            if form.cleaned_data["points"] is None:
                messages.success(request, f"The rubric’s score counts again for {reading}.")
            else:
                messages.success(request, f"Your score for {reading.document.title} is saved.")
            url = reverse("student_scores", args=[classroom.slug, membership.pk])
            return redirect(f"{url}#reading-{reading.pk}")
        failed = form
    rows = scores.student_scores(classroom, membership.user, readings)
    for row in rows:
        score = row["score"]
        if failed is not None and reading.pk == row["reading"].pk:
            row["form"] = failed
        elif instructs:
            row["form"] = OverrideForm(
                initial={
                    "reading": row["reading"].pk,
                    "points": score.override if score else None,
                    "comment": score.override_comment if score else "",
                },
                auto_id=f"id_{row['reading'].pk}_%s",
            )
    context = {
        "classroom": classroom,
        "membership": membership,
        "rows": rows,
        "instructs": instructs,
        "total": sum((row["points"] for row in rows), start=Decimal(0)),
    }
    return render(request, "annotate/student_scores.html", context, status=400 if failed else 200)
