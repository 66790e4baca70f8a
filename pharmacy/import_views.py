"""The catalogue import pages under /pharmacy/import/drugs/: upload → preview → confirm, template."""

from core.imports.views import ImportConfirmView, ImportPreviewView, ImportTemplateView, ImportUploadView

from .imports import DrugCatalogueImport

IMPORTER = DrugCatalogueImport()


class DrugImportUploadView(ImportUploadView):
    importer = IMPORTER


class DrugImportPreviewView(ImportPreviewView):
    importer = IMPORTER


class DrugImportConfirmView(ImportConfirmView):
    importer = IMPORTER


class DrugImportTemplateView(ImportTemplateView):
    importer = IMPORTER
