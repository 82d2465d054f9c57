import pytest

from petition.institutions import institutional_hint


@pytest.mark.parametrize(
    "email, affiliation",
    [
        ("ada@harvard.edu", "Harvard University"),
        ("ada@ox.ac.uk", "University of Oxford"),
        ("wang@sysu.edu.cn", "中山大学"),
        ("li@cuhk.edu.hk", "香港中文大学"),
        ("jean@sciencespo.fr", "Sciences Po, Paris"),
        ("x@uni-heidelberg.de", "Heidelberg"),
        ("y@ucl.ac.uk", "University College London"),
        ("z@soas.org", "School of Oriental and African Studies"),
    ],
)
def test_institutional_addresses_are_recognised(email, affiliation):
    assert institutional_hint(email, affiliation)


@pytest.mark.parametrize(
    "email, affiliation",
    [
        ("ada@gmail.com", "Harvard University"),
        ("wang@163.com", "中山大学"),
        ("x@mail.com", "Mail University"),
    ],
)
def test_personal_addresses_get_no_hint(email, affiliation):
    assert institutional_hint(email, affiliation) is None
