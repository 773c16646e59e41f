"""Who is who in a course: real names and numbers, roster imports, the join link and its
QR code, new codes, removing students, co-instructors, instructors and reset links."""

from datetime import timedelta

import pytest
from django.contrib.auth.models import User
from django.contrib.auth.tokens import PasswordResetTokenGenerator
from django.core import mail
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from classifier import services
from classifier.models import Course, Enrollment, Profile
from classifier.roles import is_instructor
from tests.support.clients import flash_messages
from tests.support.courses import graded_submission

pytestmark = pytest.mark.django_db


def _roster(text: str, encoding="utf-8") -> SimpleUploadedFile:
    return SimpleUploadedFile("roster.csv", text.encode(encoding), content_type="text/csv")


# --- Names and numbers ------------------------------------------------------------------


def test_a_student_gives_a_name_and_number_the_gradebook_shows(
    client, assignment, student_a, instructor
):
    client.force_login(student_a)
    url = reverse("profile")
    assert client.get(url).status_code == 200
    response = client.post(url, {"real_name": " 김민준 ", "student_number": "20261234"})
    assert response["Location"] == url
    assert (student_a.profile.real_name, student_a.profile.student_number) == (
        "김민준",
        "20261234",
    )

    client.force_login(instructor)
    page = client.get(reverse("classifier:gradebook", args=[assignment.pk])).content.decode()
    assert "김민준 · 20261234" in page
    lines = client.get(reverse("classifier:gradebook-csv", args=[assignment.pk]))
    assert (
        lines.content.decode("utf-8-sig").splitlines()[1].startswith("student_a,김민준,20261234,")
    )
    api = client.get(f"/api/assignments/{assignment.pk}/gradebook/").json()
    assert (api["rows"][0]["name"], api["rows"][0]["student_number"]) == ("김민준", "20261234")


# --- Roster import ----------------------------------------------------------------------


def test_a_roster_enrols_students_and_sets_their_names(
    client, course, student_a, student_b, instructor
):
    services.save_profile(student_a, real_name="Kim", student_number="7")
    client.force_login(instructor)
    text = (
        "username,name,number\n"
        "student_a,,\n"  # already in: what they gave is kept
        "student_b,이서연,20260002\n"
        "nobody,누구,1\n"
        "instructor,강사,2\n"
        ",빈칸,3\n"
    )
    url = reverse("classifier:course-roster", args=[course.pk])
    response = client.post(url, {"roster": _roster(text)})
    assert response["Location"] == f"{course.get_absolute_url()}#students"
    said = flash_messages(response)
    assert "1 enrolled, 1 already in the course brought up to date, 3 skipped" in said
    assert "Line 4: no account is named nobody." in said
    assert "Line 5: instructor is an instructor." in said and "Line 6: no username." in said
    assert set(course.students.all()) == {student_a, student_b}
    assert Profile.of(student_b).real_name == "이서연"
    assert Profile.of(student_b).student_number == "20260002"
    assert (Profile.of(student_a).real_name, Profile.of(student_a).student_number) == ("Kim", "7")


def test_a_spreadsheet_s_semicolons_are_read_and_a_bad_file_changes_nothing(
    client, course, student_b, instructor
):
    client.force_login(instructor)
    url = reverse("classifier:course-roster", args=[course.pk])
    client.post(url, {"roster": _roster("student_b;Lee;42\n")})
    assert Profile.of(student_b).student_number == "42"
    before = list(Enrollment.objects.values_list("pk", flat=True))
    refused = client.post(url, {"roster": _roster("student_b,이서연,1\n", encoding="euc-kr")})
    assert "not UTF-8" in flash_messages(refused)
    assert list(Enrollment.objects.values_list("pk", flat=True)) == before
    assert Profile.of(student_b).real_name == "Lee"


def test_students_cannot_import_a_roster(client, course, student_a, student_b):
    client.force_login(student_a)
    url = reverse("classifier:course-roster", args=[course.pk])
    assert client.post(url, {"roster": _roster("student_b,x,1\n")}).status_code == 403
    assert not course.students.filter(pk=student_b.pk).exists()


# --- The join link, its QR code and new codes ---------------------------------------------


def test_the_join_link_joins_a_logged_in_student(client, course, student_b):
    client.force_login(student_b)
    link = services.join_url(course)
    response = client.get(link)
    assert response["Location"] == course.get_absolute_url()
    assert course.has_student(student_b)
    again = client.get(link)
    assert "already in" in flash_messages(again) and again["Location"] == course.get_absolute_url()


def test_the_join_link_leads_a_newcomer_through_sign_up_and_then_joins(client, course):
    link = services.join_url(course)
    response = client.get(link)
    login = response["Location"]
    assert login.startswith(reverse("login")) and "next=" in login
    page = client.get(login).content.decode()
    signup = f"{reverse('signup')}?next={link.replace('/', '%2F')}"
    assert signup in page
    fields = {
        "username": "newcomer",
        "password1": "a-Long-pw-123",
        "password2": "a-Long-pw-123",
        "next": link,
    }
    done = client.post(signup, fields, follow=True)
    newcomer = User.objects.get(username="newcomer")
    assert course.has_student(newcomer)
    assert done.redirect_chain[-1][0] == course.get_absolute_url()


def test_a_new_code_retires_the_old_link_and_qr_code(client, course, instructor, student_b):
    client.force_login(instructor)
    page = client.get(course.get_absolute_url()).content.decode()
    old_link = services.join_url(course)
    assert f"http://testserver{old_link}" in page
    qr = client.get(reverse("classifier:course-qr", args=[course.pk]))
    assert qr["Content-Type"] == "image/svg+xml"
    assert qr.content.startswith(b'<svg xmlns="http://www.w3.org/2000/svg"')
    client.post(reverse("classifier:course-code", args=[course.pk]))
    course.refresh_from_db()
    assert services.join_url(course) != old_link
    assert client.get(reverse("classifier:course-qr", args=[course.pk])).content != qr.content

    client.force_login(student_b)
    stale = client.get(old_link, follow=True)
    assert "no longer valid" in stale.content.decode() and not course.has_student(student_b)
    client.get(services.join_url(course))
    assert course.has_student(student_b)


def test_a_join_link_is_not_for_instructors(client, course, instructor, other_instructor):
    client.force_login(other_instructor)
    assert client.get(services.join_url(course)).status_code == 403
    client.force_login(instructor)  # the course's own teacher: to its page
    assert client.get(services.join_url(course))["Location"] == course.get_absolute_url()


# --- Removing students ------------------------------------------------------------------


def test_a_removed_student_leaves_the_gradebook_but_their_work_stays(
    client, assignment, student_a, instructor
):
    submission = graded_submission(assignment, student_a, "가", "가")
    client.force_login(instructor)
    url = reverse("classifier:course-remove-student", args=[assignment.course.pk, student_a.pk])
    client.post(url)
    assert not assignment.course.has_student(student_a)
    assert services.gradebook(assignment).rows == []
    assert submission.__class__.objects.filter(pk=submission.pk).exists()
    assert "is not in this course" in flash_messages(client.post(url))


# --- Co-instructors and instructors -------------------------------------------------------


def test_the_owner_adds_a_co_instructor_who_then_teaches_the_course(
    client, assignment, instructor, other_instructor, student_a
):
    course = assignment.course
    client.force_login(other_instructor)
    assert client.get(reverse("classifier:gradebook", args=[assignment.pk])).status_code == 404

    client.force_login(instructor)
    add = reverse("classifier:course-co-instructor-add", args=[course.pk])
    assert "not an instructor" in flash_messages(client.post(add, {"username": "student_a"}))
    client.post(add, {"username": "other_instructor"})
    assert list(course.co_instructors.all()) == [other_instructor]
    assert "already teaches" in flash_messages(client.post(add, {"username": "other_instructor"}))

    client.force_login(other_instructor)
    assert course in Course.visible_to(other_instructor)
    assert client.get(reverse("classifier:gradebook", args=[assignment.pk])).status_code == 200
    submission = graded_submission(assignment, student_a, "가", "나")
    assert client.get(submission.get_absolute_url()).status_code == 200
    # A co-instructor teaches, but does not choose who else does.
    assert client.post(add, {"username": "instructor"}).status_code == 403

    client.force_login(instructor)
    remove = reverse(
        "classifier:course-co-instructor-remove", args=[course.pk, other_instructor.pk]
    )
    client.post(remove)
    assert not course.co_instructors.exists()


def test_an_admin_makes_an_instructor_on_the_people_page(client, staff, student_a, instructor):
    page = reverse("people")
    client.force_login(student_a)
    assert client.get(page).status_code == 403
    assert (
        client.post(reverse("set-role", args=[student_a.pk]), {"role": "instructor"}).status_code
        == 403
    )
    client.force_login(staff)
    listing = client.get(page, {"q": "student"})
    assert [user for user, _role in listing.context["rows"]] == [student_a]
    client.post(reverse("set-role", args=[student_a.pk]), {"role": "instructor"})
    assert is_instructor(User.objects.get(pk=student_a.pk))
    client.post(reverse("set-role", args=[student_a.pk]), {"role": "student"})
    assert not is_instructor(User.objects.get(pk=student_a.pk))
    Course.objects.create(name="Mine", owner=instructor)
    refused = client.post(reverse("set-role", args=[instructor.pk]), {"role": "student"})
    assert "owns courses" in flash_messages(refused) and is_instructor(instructor)


def test_the_admin_site_makes_instructors_too(client, staff, student_a):
    client.force_login(staff)
    client.post(
        reverse("admin:auth_user_changelist"),
        {"action": "make_instructors", "_selected_action": [student_a.pk]},
    )
    assert is_instructor(User.objects.get(pk=student_a.pk))


# --- Password reset links -----------------------------------------------------------------


def _reset_link(client, course, student) -> str:
    response = client.post(reverse("classifier:course-reset-link", args=[course.pk, student.pk]))
    assert response.status_code == 200 and response["Cache-Control"] == "no-store"
    return response.context["link"].removeprefix("http://testserver")


def test_a_reset_link_sets_a_new_password_once(client, course, instructor, student_a):
    client.force_login(instructor)
    link = _reset_link(client, course, student_a)
    client.logout()
    form = client.get(link, follow=True)
    assert "A new password for student_a" in form.content.decode()
    done = client.post(
        form.redirect_chain[-1][0],
        {"new_password1": "New-pass-4321", "new_password2": "New-pass-4321"},
    )
    assert done["Location"] == reverse("password_reset_complete")
    assert client.login(username="student_a", password="New-pass-4321")
    client.logout()
    spent = client.get(link, follow=True).content.decode()
    assert "This link does not work" in spent


def test_a_reset_link_expires_after_a_day(client, course, instructor, student_a, monkeypatch):
    client.force_login(instructor)
    link = _reset_link(client, course, student_a)
    client.logout()
    now = PasswordResetTokenGenerator()._now()
    monkeypatch.setattr(
        PasswordResetTokenGenerator, "_now", lambda self: now + timedelta(days=1, minutes=1)
    )
    assert "This link does not work" in client.get(link, follow=True).content.decode()


def test_reset_links_are_only_for_the_instructor_s_own_students(
    client, course, instructor, other_instructor, student_b
):
    client.force_login(instructor)
    url = reverse("classifier:course-reset-link", args=[course.pk, student_b.pk])
    assert "not in this course" in flash_messages(client.post(url))
    client.force_login(other_instructor)
    assert client.post(url).status_code == 404


def test_forgot_password_by_e_mail_only_where_e_mail_is_set_up(client, settings, student_a):
    url = reverse("password_reset")
    assert "Ask your instructor" in client.get(url).content.decode()
    student_a.email = "a@example.org"
    student_a.save()
    settings.LAB_EMAIL = True
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    response = client.post(url, {"email": "a@example.org"})
    assert response["Location"] == reverse("password_reset_done")
    (message,) = mail.outbox
    assert "/accounts/reset/" in message.body and "student_a" in message.body
