"""Forms of the crew portal: they parse; services decide."""

from __future__ import annotations

from django import forms


class RespondForm(forms.Form):
    answer = forms.ChoiceField(choices=[("accept", "Accept"), ("decline", "Decline")])
    reason = forms.CharField(max_length=300, required=False, strip=True)
    next = forms.CharField(required=False)

    @property
    def accepted(self) -> bool:
        return self.cleaned_data["answer"] == "accept"


class TickForm(forms.Form):
    done = forms.TypedChoiceField(
        choices=[("1", "Done"), ("0", "Not done")], coerce=lambda v: v == "1"
    )
    next = forms.CharField(required=False)


class LinkRequestForm(forms.Form):
    email = forms.EmailField(label="Your email address", max_length=254)


class LoginConfirmForm(forms.Form):
    t = forms.CharField()
    u = forms.CharField()
    next = forms.CharField(required=False)
