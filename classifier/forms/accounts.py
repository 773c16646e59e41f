"""Accounts: signing up, and the real name and student number teachers see."""

from django import forms
from django.contrib.auth.forms import UserCreationForm
from django.contrib.auth.models import Group, User

from ..models import Profile
from ..roles import STUDENT


class SignUpForm(UserCreationForm):
    """A new account is a student; instructors are promoted by an admin."""

    class Meta(UserCreationForm.Meta):
        model = User
        fields = ("username",)

    def save(self, commit=True):
        user = super().save(commit=commit)
        if commit:
            user.groups.add(Group.objects.get_or_create(name=STUDENT)[0])
        return user


class ProfileForm(forms.ModelForm):
    class Meta:
        model = Profile
        fields = ("real_name", "student_number")
