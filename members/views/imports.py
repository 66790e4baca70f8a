"""The staff import pages under /people/import/staff/: upload → preview → confirm, template."""

from core.imports.views import ImportConfirmView, ImportPreviewView, ImportTemplateView, ImportUploadView

from ..imports import StaffImport

IMPORTER = StaffImport()


class StaffImportUploadView(ImportUploadView):
    importer = IMPORTER


class StaffImportPreviewView(ImportPreviewView):
    importer = IMPORTER


class StaffImportConfirmView(ImportConfirmView):
    importer = IMPORTER


class StaffImportTemplateView(ImportTemplateView):
    importer = IMPORTER
