import datetime

import pytest
from django.core.exceptions import ValidationError

from schools.names import vietnamese_name_key
from schools.validators import validate_personal_id, validate_personal_id_matches

BOY_2014 = {"sex": "M", "date_of_birth": datetime.date(2014, 5, 2)}


@pytest.mark.parametrize("value", ["001214000123", "079314999999", "096098000001"])
def test_valid_personal_ids(value):
    validate_personal_id(value)


@pytest.mark.parametrize(
    "value",
    [
        "",
        "00121400012",
        "0012140001234",
        "00121400012a",
        "００１２１４０００１２３",
        "003214000123",
    ],
)
def test_invalid_personal_ids(value):
    with pytest.raises(ValidationError):
        validate_personal_id(value)


def test_personal_id_must_match_sex_and_century():
    validate_personal_id_matches("001214000123", **BOY_2014)
    with pytest.raises(ValidationError) as error:
        validate_personal_id_matches("001314000123", **BOY_2014)  # 3 = girl born 2000s
    assert error.value.code == "personal_id_sex_century"


def test_personal_id_must_match_year_of_birth():
    with pytest.raises(ValidationError) as error:
        validate_personal_id_matches("001215000123", **BOY_2014)
    assert error.value.code == "personal_id_year"


def test_class_list_orders_by_given_name_in_vietnamese_alphabet():
    names = [
        "Trần Văn Đức",
        "Nguyễn Thị Dung",
        "Lê Văn An",
        "Phạm Thị Ánh",
        "Hoàng Văn Ân",
        "Vũ Thị Yến",
    ]
    ordered = sorted(names, key=vietnamese_name_key)
    # a < á (tone) < â (letter); d < đ; then y
    assert ordered == [
        "Lê Văn An",
        "Phạm Thị Ánh",
        "Hoàng Văn Ân",
        "Nguyễn Thị Dung",
        "Trần Văn Đức",
        "Vũ Thị Yến",
    ]


def test_same_given_name_orders_by_family_name():
    assert sorted(["Trần Minh An", "Bùi Văn An"], key=vietnamese_name_key) == [
        "Bùi Văn An",
        "Trần Minh An",
    ]
