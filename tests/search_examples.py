"""What a search box finds: (typed, a name, found?). config/text.py's search_matches and the
grid's search box (static/js/grid_extras.js) are both tested against this table."""

SEARCH_EXAMPLES: list[tuple[str, str, bool]] = [
    ("nguyen", "Nguyễn Văn Bình", True),
    ("NGUYEN", "Nguyễn Văn Bình", True),
    ("van binh", "Nguyễn Văn Bình", True),
    ("van   binh ", "Nguyễn  Văn Bình", True),
    ("diep", "Trần Ngọc Diệp", True),
    ("d", "Đỗ Thu Hà", True),
    ("dinh", "Đinh Công Tráng", True),
    ("DINH", "đinh công tráng", True),
    ("đinh", "Đinh Công Tráng", True),
    ("đ", "Dương Văn Minh", False),
    ("Yến", "Lê Hoàng Yến", True),
    ("yến", "Nguyễn Thị Yên", False),
    ("yen", "Nguyễn Thị Yên", True),
    ("Nguye\u0302\u0303n", "Nguyễn Văn Bình", True),  # typed decomposed
    ("nguyen", "Nguye\u0302\u0303n Văn Bình", True),  # stored decomposed
    ("bình", "Nguyễn Văn Binh", False),
    ("an", "Trần Thị An", True),
    ("hoa", "Trần Thị An", False),
    ("", "Trần Thị An", True),
]
