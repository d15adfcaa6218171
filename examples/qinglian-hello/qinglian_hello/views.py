"""The board's page: the greetings of the user's regions and a form to post one. Thin:
parse the form, call the service, render."""
from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, url_for
from flask_login import current_user

from core.api import FieldError, Region, _, regions_in_scope, require
from qinglian_hello import PERMISSION, services
from qinglian_hello.forms import GreetingForm

bp = Blueprint("hello", __name__, url_prefix="/hello", template_folder="templates")


def _form() -> GreetingForm:
    form = GreetingForm()
    form.region.choices = [(r.id, r.name) for r in regions_in_scope(current_user, PERMISSION)]
    return form


@bp.route("/", methods=["GET", "POST"])
@require(PERMISSION)
def index():
    form, status = _form(), 200
    if form.validate_on_submit():
        try:
            services.post_greeting(current_user, Region.get_by_id(form.region.data),
                                   form.text.data)
        except FieldError as exc:
            form.apply_error(exc)
        else:
            flash(_("Greeting posted."), "success")
            return redirect(url_for("hello.index"), 303)
    if form.errors:
        status = 422
    return render_template("hello/index.html", form=form,
                           greetings=services.greetings_for(current_user)), status
