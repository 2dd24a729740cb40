"""A tile-grid layout of the 31 provinces, arranged like China's geography (no shapefiles).

Each province is one equal tile at ``(row, col)``, row 0 at the top. The grid was drawn for this
project from the provinces' approximate centroids so that neighbours stay neighbours where a square
grid allows (Hebei around Beijing and Tianjin, the Yangtze delta on the east coast, Tibet and
Xinjiang in the west); tile area says nothing about a province's size or population. The report's
province map and the explorer both draw it.
"""

from __future__ import annotations

TILES: dict[str, tuple[int, int]] = {
    "Heilongjiang": (0, 7),
    "InnerMongolia": (1, 3),
    "Beijing": (1, 4),
    "Liaoning": (1, 6),
    "Jilin": (1, 7),
    "Xinjiang": (2, 0),
    "Gansu": (2, 1),
    "Ningxia": (2, 2),
    "Shanxi": (2, 3),
    "Hebei": (2, 4),
    "Tianjin": (2, 5),
    "Tibet": (3, 0),
    "Qinghai": (3, 1),
    "Shaanxi": (3, 2),
    "Henan": (3, 3),
    "Shandong": (3, 4),
    "Sichuan": (4, 1),
    "Chongqing": (4, 2),
    "Hubei": (4, 3),
    "Anhui": (4, 4),
    "Jiangsu": (4, 5),
    "Shanghai": (4, 6),
    "Yunnan": (5, 1),
    "Guizhou": (5, 2),
    "Hunan": (5, 3),
    "Jiangxi": (5, 4),
    "Zhejiang": (5, 5),
    "Guangxi": (6, 3),
    "Guangdong": (6, 4),
    "Fujian": (6, 5),
    "Hainan": (7, 3),
}

#: Tile labels where the data's name does not read well in a small tile.
TILE_LABELS: dict[str, str] = {
    "InnerMongolia": "Inner\nMongolia",
    "Heilongjiang": "Heilong-\njiang",
}

#: ISO 3166-2:CN code of each province, for tiles too small for a name.
CODES: dict[str, str] = {
    "Heilongjiang": "HL",
    "InnerMongolia": "NM",
    "Beijing": "BJ",
    "Liaoning": "LN",
    "Jilin": "JL",
    "Xinjiang": "XJ",
    "Gansu": "GS",
    "Ningxia": "NX",
    "Shanxi": "SX",
    "Hebei": "HE",
    "Tianjin": "TJ",
    "Tibet": "XZ",
    "Qinghai": "QH",
    "Shaanxi": "SN",
    "Henan": "HA",
    "Shandong": "SD",
    "Sichuan": "SC",
    "Chongqing": "CQ",
    "Hubei": "HB",
    "Anhui": "AH",
    "Jiangsu": "JS",
    "Shanghai": "SH",
    "Yunnan": "YN",
    "Guizhou": "GZ",
    "Hunan": "HN",
    "Jiangxi": "JX",
    "Zhejiang": "ZJ",
    "Guangxi": "GX",
    "Guangdong": "GD",
    "Fujian": "FJ",
    "Hainan": "HI",
}


def grid_shape() -> tuple[int, int]:
    """Rows and columns of the tile grid."""
    return max(r for r, _ in TILES.values()) + 1, max(c for _, c in TILES.values()) + 1
