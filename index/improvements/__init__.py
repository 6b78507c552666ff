"""Areas for improvement that inspections and officers' reports list: extraction at index time, curated fixes."""

from index.improvements.extraction import document_areas, extract_areas
from index.improvements.models import AREAS_VERSION, AreasFile, ExtractionProblem, ImprovementArea

__all__ = ["AREAS_VERSION", "AreasFile", "ExtractionProblem", "ImprovementArea", "document_areas", "extract_areas"]
